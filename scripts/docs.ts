/** Regenerates the README's controls table and command-line reference from the code that defines them. */
import { readFileSync, writeFileSync } from "node:fs";
import { withCliReference } from "../src/cli/help-reference.js";
import { withControlsTable } from "../src/reporters/controls-table.js";

const path = new URL("../README.md", import.meta.url);
writeFileSync(path, withCliReference(withControlsTable(readFileSync(path, "utf8"))));
