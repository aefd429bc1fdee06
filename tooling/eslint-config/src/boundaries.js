/**
 * The dependency direction of ARCHITECTURE.md §1, as data. Each entry lists the
 * @node-mirth packages a workspace may import; anything else under the scope is refused.
 * Only the package root may be imported: `src/index.ts` is the whole public surface.
 */
const CONNECTORS = ["mllp-tls", "http", "smtp", "dicom", "remotefile"];

export const ALLOWED_IMPORTS = {
  "packages/hl7": [],
  "packages/certs": [],
  "packages/core": ["hl7", "certs"],
  ...Object.fromEntries(CONNECTORS.map((name) => [`packages/${name}`, ["core", "certs", "hl7"]])),
  "packages/cluster": ["core", "certs"],
};

/** Every scoped package a workspace may never name, given what it may. */
export function forbiddenScopedImports(allowed) {
  const known = ["hl7", "certs", "core", "cluster", "server", ...CONNECTORS];
  return known.filter((name) => !allowed.includes(name)).map((name) => `@node-mirth/${name}`);
}

const deepImportPattern = {
  group: ["@node-mirth/*/*"],
  message: "Import a package by its root only: src/index.ts is its whole public surface.",
};

const crossWorkspacePattern = {
  group: ["**/packages/**", "**/apps/**", "**/tooling/**"],
  message: "Reach another workspace through its package name, not a relative path.",
};

function describeAllowed(allowed) {
  return allowed.length ? allowed.map((name) => `@node-mirth/${name}`).join(", ") : "no other @node-mirth package";
}

/** Flat-config blocks that enforce the boundaries on each package's source (tests excepted). */
export function boundaryConfigs() {
  return Object.entries(ALLOWED_IMPORTS).map(([dir, allowed]) => ({
    files: [`${dir}/**/*.ts`],
    ignores: [`${dir}/**/*.test.ts`, `${dir}/bench/**`],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: forbiddenScopedImports(allowed).map((name) => ({
            name,
            message: `${dir} may import only ${describeAllowed(allowed)} (ARCHITECTURE.md §1).`,
          })),
          patterns: [deepImportPattern, crossWorkspacePattern],
        },
      ],
    },
  }));
}
