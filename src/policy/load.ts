import { readFileSync } from "node:fs";
import { PolicyError } from "../errors.js";
import type { AnyControl } from "../controls/types.js";
import { parsePolicyLayer } from "./parse.js";
import { resolvePolicy } from "./resolve.js";
import type { Policy, PolicyLayer } from "./types.js";

/**
 * The name the shipped default goes by in messages and in the policy hash. Relative, so the hash
 * does not depend on where soc2-bot is installed.
 */
export const DEFAULT_POLICY_FILE = "policies/soc2.yml";

/** The shipped default, policies/soc2.yml, found from this module so it works from src/ under tsx and vitest. */
export function loadDefaultPolicyLayer(controls: readonly AnyControl[]): PolicyLayer {
  const text = readFileSync(new URL("../../policies/soc2.yml", import.meta.url), "utf8");
  return parsePolicyLayer(text, DEFAULT_POLICY_FILE, controls, { layer: "default" });
}

/** The effective policy: the shipped default, then `files` in order (organization, then repository). */
export function loadPolicy(
  files: ReadonlyArray<{ file: string; text: string }>,
  controls: readonly AnyControl[],
): Policy {
  const layers = [loadDefaultPolicyLayer(controls)];
  // Every file is read before failing, so one error lists the problems of the organization's and the
  // repository's files together.
  const problems: Array<PolicyError["problems"][number]> = [];
  for (const { file, text } of files) {
    try {
      layers.push(parsePolicyLayer(text, file, controls));
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw new PolicyError(problems);
  return resolvePolicy(layers, controls);
}
