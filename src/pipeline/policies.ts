import { CONTROLS } from "../controls/index.js";
import type { PolicySet } from "../engine/index.js";
import type { PolicyFile, Snapshot } from "../model/index.js";
import { loadDefaultPolicyLayer, parsePolicyLayer, resolvePolicy } from "../policy/index.js";
import { parsePolicyLayerOffThread } from "../policy/parse-off-thread.js";
import type { Policy, PolicyLayer } from "../policy/types.js";

/**
 * The policies in force for a snapshot: shipped default < organization layer(s) < each repository's
 * own layer. The organization's files are part of the snapshot (read from the code host, or given
 * with --policy at audit time), so evaluating a saved snapshot gives the same results as the live run.
 * Throws PolicyError (file, line, column) for any broken layer.
 */
export function policySetFor(snapshot: Pick<Snapshot, "policyFiles">): PolicySet {
  const base = baseLayers(snapshot.policyFiles);
  const organization = resolvePolicy(base, CONTROLS);
  const byRepository = new Map<string, Policy>();
  for (const file of snapshot.policyFiles) {
    if (file.layer !== "repository" || file.repository === null) continue;
    byRepository.set(file.repository, resolvePolicy([...base, parse(file)], CONTROLS));
  }
  return {
    organization,
    forRepository: (fullName) => byRepository.get(fullName) ?? organization,
  };
}

/**
 * policySetFor without holding the event loop (an audit in the app's process, where any repository's
 * own layer may be large): large files are parsed in a worker within a time budget. The same
 * policies, or the same PolicyError of the first broken layer in policySetFor's order.
 */
export async function policySetForOffThread(snapshot: Pick<Snapshot, "policyFiles">): Promise<PolicySet> {
  const base = [loadDefaultPolicyLayer(CONTROLS)];
  for (const file of snapshot.policyFiles.filter((f) => f.layer === "organization")) {
    base.push(await parseOffThread(file));
  }
  const organization = resolvePolicy(base, CONTROLS);
  const byRepository = new Map<string, Policy>();
  for (const file of snapshot.policyFiles) {
    if (file.layer !== "repository" || file.repository === null) continue;
    byRepository.set(file.repository, resolvePolicy([...base, await parseOffThread(file)], CONTROLS));
  }
  return {
    organization,
    forRepository: (fullName) => byRepository.get(fullName) ?? organization,
  };
}

/**
 * The policy in force over the given files: the shipped default, then every organization layer,
 * then the repository layers, in that order (each PolicyFile says which layer it is).
 */
export function policyOf(files: readonly PolicyFile[]): Policy {
  return resolvePolicy([...baseLayers(files), ...layersOf(files, "repository")], CONTROLS);
}

/**
 * policyOf without holding the event loop: large files (anyone who can push a branch can shape a
 * base branch's policy) are parsed in a worker within a time budget. The same policy, or the same
 * PolicyError: the layers are read in policyOf's order and the first broken one throws.
 */
export async function policyOfOffThread(files: readonly PolicyFile[]): Promise<Policy> {
  const layers = [loadDefaultPolicyLayer(CONTROLS)];
  for (const layer of ["organization", "repository"] as const) {
    for (const file of files.filter((f) => f.layer === layer)) {
      layers.push(await parseOffThread(file));
    }
  }
  return resolvePolicy(layers, CONTROLS);
}

function baseLayers(files: readonly PolicyFile[]): PolicyLayer[] {
  return [loadDefaultPolicyLayer(CONTROLS), ...layersOf(files, "organization")];
}

function layersOf(files: readonly PolicyFile[], layer: PolicyFile["layer"]): PolicyLayer[] {
  return files.filter((file) => file.layer === layer).map(parse);
}

function parse(file: PolicyFile): PolicyLayer {
  return parsePolicyLayer(file.content, file.path, CONTROLS, { layer: file.layer });
}

function parseOffThread(file: PolicyFile): Promise<PolicyLayer> {
  return parsePolicyLayerOffThread(file.content, file.path, { layer: file.layer });
}
