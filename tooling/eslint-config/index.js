import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { ALLOWED_IMPORTS, forbiddenScopedImports } from "./boundaries.js";

const deepImportPattern = {
  group: ["@node-mirth/*/*"],
  message: "Import a package by its root only: src/index.ts is its whole public surface.",
};

function boundaryBlocks() {
  return Object.entries(ALLOWED_IMPORTS).map(([dir, allowed]) => ({
    files: [`${dir}/**/*.ts`],
    ignores: [`${dir}/**/*.test.ts`, `${dir}/bench/**`],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: forbiddenScopedImports(allowed).map((name) => ({
            name,
            message: `${dir} may import only ${allowed.length ? allowed.map((a) => "@node-mirth/" + a).join(", ") : "no other @node-mirth package"} (ARCHITECTURE.md §1).`,
          })),
          patterns: [
            deepImportPattern,
            {
              group: ["**/packages/**", "**/apps/**", "**/tooling/**"],
              message: "Reach another workspace through its package name, not a relative path.",
            },
          ],
        },
      ],
    },
  }));
}

/** The shared flat config: type-checked TypeScript rules plus the import boundaries. */
export function createEslintConfig({ tsconfigRootDir }) {
  return tseslint.config(
    {
      ignores: ["**/dist/**", "**/node_modules/**", "**/coverage/**", "**/*.js", "**/*.mjs", "**/*.cjs", "**/*.d.ts"],
    },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
      languageOptions: {
        parserOptions: { projectService: true, tsconfigRootDir },
      },
      rules: {
        "@typescript-eslint/no-floating-promises": "error",
        "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
        "@typescript-eslint/switch-exhaustiveness-check": [
          "error",
          { considerDefaultExhaustiveForUnions: true },
        ],
        "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
        "max-params": ["error", 3],
        "no-console": "error",
      },
    },
    {
      files: ["**/*.test.ts", "**/bench/**/*.ts", "**/bin/**/*.ts", "**/cli/**/*.ts", "tooling/**/*.ts"],
      rules: {
        "no-console": "off",
        "@typescript-eslint/no-non-null-assertion": "off",
        "@typescript-eslint/no-unsafe-member-access": "off",
        "@typescript-eslint/no-unsafe-assignment": "off",
      },
    },
    ...boundaryBlocks(),
  );
}
