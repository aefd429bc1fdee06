import { createTsupConfig } from "@node-mirth/tsup-config";

export default createTsupConfig();
