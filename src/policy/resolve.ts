import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { PolicyError } from "../errors.js";
import type { AnyControl } from "../controls/types.js";
import { displayPath, policyErrorMap } from "./issues.js";
import { mergePeople, peopleConflicts } from "./people.js";
import type { ControlSetting, Policy, PolicyLayer } from "./types.js";
import type { Problem } from "./yaml-source.js";

/** Used only where no layer (not even the shipped default) says anything. */
const FALLBACK = {
  productionBranches: { defaultBranch: true, patterns: [] as string[] },
  findings: { repository: "compliance", labels: [] as string[] },
  audit: { schedule: "weekly", include: [] as string[], exclude: [] as string[] },
} satisfies Pick<Policy, "productionBranches" | "findings" | "audit">;

interface Place {
  file: string;
  line: number;
  column: number;
}

interface Working {
  enabled: boolean;
  locked: boolean;
  raw: Record<string, unknown>;
  source: string;
  /** Where the control was first locked, and by which layer (its index). */
  lock?: Place & { layer: number };
  /** Where the control was last set: for problems found only once everything is merged. */
  lastSet?: Place;
}

/**
 * Layers the shipped default (layers[0]), the organization's policy and the repository's into the
 * effective policy. Later layers override earlier ones key by key, except where a control is locked.
 * People are the union by id: a later layer adds accounts to a person, never removes one.
 */
export function resolvePolicy(layers: PolicyLayer[], controls: readonly AnyControl[]): Policy {
  const problems: Problem[] = [];
  const working = new Map<string, Working>(
    controls.map((control) => [
      control.id,
      { enabled: true, locked: false, raw: {}, source: layers[0]?.file ?? "" },
    ]),
  );

  layers.forEach((layer, index) => {
    for (const [id, setting] of Object.entries(layer.controls)) {
      const place = { file: layer.file, line: setting.line, column: setting.column };
      const state = working.get(id);
      const control = controls.find((candidate) => candidate.id === id);
      if (!state || !control) {
        problems.push({ ...place, message: `unknown control \`${id}\`` });
        continue;
      }
      const next: Working = {
        ...state,
        enabled: setting.enabled ?? state.enabled,
        locked: state.locked || setting.locked === true,
        raw: { ...state.raw, ...setting.params },
        source: layer.file,
        lastSet: place,
      };
      if (state.lock) {
        const change = describeChange(control, state, next, setting.locked);
        if (change) {
          const lock = state.lock;
          problems.push({
            ...place,
            message:
              `${id} is locked by ${lock.file}:${lock.line}:${lock.column}; ` +
              `${layer.file}:${place.line}:${place.column} cannot change it (${change})`,
          });
          continue;
        }
      }
      if (setting.locked === true && !state.lock) next.lock = { ...place, layer: index };
      working.set(id, next);
    }
    for (const exception of layer.exceptions) {
      const [file = layer.file, line = "1"] = splitSource(exception.source);
      const state = working.get(exception.control);
      if (!state) {
        problems.push({
          file,
          line: Number(line),
          column: 1,
          message: `exception for unknown control \`${exception.control}\``,
        });
      } else if (state.lock && state.lock.layer < index) {
        const lock = state.lock;
        problems.push({
          file,
          line: Number(line),
          column: 1,
          message:
            `${exception.control} is locked by ${lock.file}:${lock.line}:${lock.column}; ` +
            `an exception to it in ${exception.source} is not allowed (only ${lock.file} or a file layered before it may grant one)`,
        });
      }
    }
  });

  // An account claimed by people of different layers (within one layer, parsing already refused it).
  problems.push(...peopleConflicts(layers.flatMap((layer) => layer.people ?? [])));

  const settings: Record<string, ControlSetting> = {};
  for (const control of controls) {
    const state = working.get(control.id);
    if (!state) continue;
    const result = control.params.safeParse(state.raw, { error: policyErrorMap });
    if (!result.success) {
      const place = state.lastSet ?? { file: layers[0]?.file ?? "policy", line: 1, column: 1 };
      for (const issue of result.error.issues) {
        const path = issue.path.filter((segment): segment is string | number => typeof segment !== "symbol");
        problems.push({
          ...place,
          message: `\`controls.${displayPath([control.id, ...path])}\` ${issue.message}`,
        });
      }
      continue;
    }
    settings[control.id] = {
      enabled: state.enabled,
      locked: state.locked,
      params: result.data,
      source: state.source,
    };
  }
  if (problems.length > 0) throw new PolicyError(problems);

  return {
    sources: layers.map((layer) => layer.file),
    hash: policyHash(layers),
    productionBranches: merge(
      FALLBACK.productionBranches,
      layers.map((layer) => layer.productionBranches),
    ),
    controls: settings,
    exceptions: layers.flatMap((layer) => layer.exceptions),
    people: mergePeople(layers.map((layer) => layer.people)),
    findings: merge(
      FALLBACK.findings,
      layers.map((layer) => layer.findings),
    ),
    audit: merge(
      FALLBACK.audit,
      layers.map((layer) => layer.audit),
    ),
    ledger: merge<NonNullable<Policy["ledger"]>>(
      { judgedWithinMinutes: 15, accessSnapshots: "quarter-ends" },
      layers.map((layer) => layer.ledger),
    ),
  };
}

/** What a later layer's setting would change on a locked control, or undefined if nothing. */
function describeChange(
  control: AnyControl,
  before: Working,
  after: Working,
  locked: boolean | undefined,
): string | undefined {
  if (before.enabled !== after.enabled) return `sets enabled: ${after.enabled}`;
  if (locked === false) return "sets locked: false";
  // Compare effective values (defaults filled), so restating the effective value is not a change.
  const effective = (raw: Record<string, unknown>): Record<string, unknown> => {
    const result = control.params.safeParse(raw);
    return result.success && isRecord(result.data) ? result.data : raw;
  };
  const was = effective(before.raw);
  const now = effective(after.raw);
  const keys = [...new Set([...Object.keys(was), ...Object.keys(now)])];
  const changed = keys.find((key) => !isDeepStrictEqual(was[key], now[key]));
  return changed === undefined
    ? undefined
    : `sets ${changed} to ${JSON.stringify(now[changed])}; the locked value is ${JSON.stringify(was[changed])}`;
}

function merge<T extends object>(fallback: T, overrides: ReadonlyArray<Partial<T> | undefined>): T {
  let result = { ...fallback };
  for (const override of overrides) {
    if (!override) continue;
    const defined = Object.entries(override).filter(([, value]) => value !== undefined);
    result = { ...result, ...Object.fromEntries(defined) };
  }
  return result;
}

/** Names the exact texts layered: each prefixed by its name and length, so no two lists hash alike. */
export function policyHash(layers: ReadonlyArray<Pick<PolicyLayer, "file" | "text">>): string {
  const hash = createHash("sha256");
  for (const layer of layers) {
    const file = Buffer.from(layer.file, "utf8");
    const text = Buffer.from(layer.text, "utf8");
    hash.update(`${file.length}:`).update(file).update(`${text.length}:`).update(text);
  }
  return hash.digest("hex");
}

function splitSource(source: string): [string, string] {
  const at = source.lastIndexOf(":");
  return at < 0 ? [source, "1"] : [source.slice(0, at), source.slice(at + 1)];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
