import { createEslintConfig } from "@node-mirth/eslint-config";

export default createEslintConfig({ tsconfigRootDir: import.meta.dirname });
