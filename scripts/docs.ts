/** Regenerates the README's controls table from the controls' definitions. */
import { readFileSync, writeFileSync } from "node:fs";
import { withControlsTable } from "../src/reporters/controls-table.js";

const path = new URL("../README.md", import.meta.url);
writeFileSync(path, withControlsTable(readFileSync(path, "utf8")));
