export { parsePolicyLayer } from "./parse.js";
export { resolvePolicy, policyHash } from "./resolve.js";
export { loadDefaultPolicyLayer, loadPolicy, DEFAULT_POLICY_FILE } from "./load.js";
export { globMatch, isProductionBranch, patternProblem } from "./branches.js";
export { findException } from "./exceptions.js";
export type * from "./types.js";
