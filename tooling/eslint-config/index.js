import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { boundaryConfigs } from "./src/boundaries.js";

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
    ...boundaryConfigs(),
  );
}
