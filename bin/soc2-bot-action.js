#!/usr/bin/env node
// The GitHub Action's entry point (action.yml): src/action/run.ts through tsx's loader, no build step.
import { register } from "tsx/esm/api";

register();
const { runAction } = await import("../src/action/run.ts");
process.exitCode = await runAction(process.env, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
