export { parsePolicyLayer } from "./parse.js";
export type { LayerOptions } from "./parse.js";
export { resolvePolicy, policyHash } from "./resolve.js";
export { loadDefaultPolicyLayer, loadPolicy, DEFAULT_POLICY_FILE } from "./load.js";
export { globMatch, isProductionBranch, patternProblem } from "./branches.js";
export { findException } from "./exceptions.js";
export { peopleDirectory, noreplyLogin } from "./people.js";
export type { Host } from "./people.js";
export type * from "./types.js";
