import { PolicyError } from "../errors.js";
import type { AnyControl } from "../controls/types.js";
import { describe, issueProblems, objectShape, policyErrorMap } from "./issues.js";
import { PolicyFileSchema } from "./schema.js";
import type { PolicyFile } from "./schema.js";
import { didYouMean } from "./suggest.js";
import { accountKey, peopleConflicts } from "./people.js";
import type { LayerPerson, PolicyException, PolicyLayer } from "./types.js";
import { readYaml, sortProblems } from "./yaml-source.js";
import type { Problem, YamlSource } from "./yaml-source.js";

/** Keys of `controls.<id>` that belong to the policy rather than to the control's parameters. */
const SETTING_KEYS = ["enabled", "locked"];

/** Which layer a file is: a repository's layer may not declare people (see readPeople). */
export interface LayerOptions {
  layer?: "default" | "organization" | "repository";
}

/** A person id: what evidence shows for them, so plain words only. */
const PERSON_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Reads one policy file. Throws a PolicyError listing every problem found (not just the first), each
 * with file, line and column, so one edit-and-retry fixes the file.
 */
export function parsePolicyLayer(
  text: string,
  file: string,
  controls: readonly AnyControl[],
  options: LayerOptions = {},
): PolicyLayer {
  const { source, problems } = readYaml(text, file);
  if (!source) throw new PolicyError(problems);
  const value = source.value;
  if (!isRecord(value)) {
    const what = value === null || value === undefined ? "the file is empty" : `it holds ${describe(value)}`;
    throw new PolicyError([
      { ...source.valueAt([]), message: `a policy is a mapping starting with \`version: 1\`, but ${what}` },
    ]);
  }

  const parsed = PolicyFileSchema.safeParse(value, { error: policyErrorMap });
  if (!parsed.success) problems.push(...issueProblems(source, PolicyFileSchema, [], parsed.error.issues));
  // Controls and exception controls are checked even when other keys failed: every problem at once.
  const layerControls = readControls(source, value["controls"], controls, problems);
  problems.push(...unknownExceptionControls(source, value["exceptions"], controls));
  problems.push(...peopleProblems(source, value["people"], options));
  problems.push(...extendsProblems(source, value["_extends"]));
  const people = parsed.success ? readPeople(source, parsed.data) : undefined;
  if (people) problems.push(...peopleConflicts(people));

  if (problems.length > 0 || !parsed.success) {
    throw new PolicyError(sortProblems(problems));
  }
  const layer = toLayer(source, text, parsed.data, layerControls);
  if (people) layer.people = people;
  return layer;
}

/** The `_extends` values that name what the layering already does: the organization's `.github`. */
const EXTENDS_ORGANIZATION = new Set([".github", ".github:.github/soc2.yml", ".github:.github/soc2.yaml"]);

/**
 * `_extends` is Probot's way to inherit a config from another repository. soc2-bot always layers a
 * repository's policy over its organization's `.github/soc2.yml`, so `_extends: .github` says what
 * happens anyway and is accepted. Any other source would be another repository's file, which the
 * policy is never read from: refused at its position rather than ignored, since a layer the reader
 * believes is applied, and is not, could weaken a control unseen.
 */
function extendsProblems(source: YamlSource, value: unknown): Problem[] {
  if (value === undefined || (typeof value === "string" && EXTENDS_ORGANIZATION.has(value.trim()))) return [];
  if (typeof value !== "string") return []; // the schema reports the type
  return [
    {
      ...source.valueAt(["_extends"]),
      message:
        `\`_extends: ${value}\` is not supported: only \`_extends: .github\` (the organization's ` +
        "`.github/soc2.yml`, always the layer below a repository's policy); give other layers with --policy",
    },
  ];
}

/**
 * Who is who is the organization's to say: a repository's layer naming people could merge or split
 * accounts for its own changes. Ids are checked here, with their position (the schema sees keys only
 * as a record).
 */
function peopleProblems(source: YamlSource, value: unknown, options: LayerOptions): Problem[] {
  if (value === undefined || value === null) return [];
  if (options.layer === "repository") {
    return [
      {
        ...source.keyAt(["people"]),
        message:
          "`people` is declared by the organization's policy, not a repository's: " +
          "move it to the organization's policy file",
      },
    ];
  }
  if (!isRecord(value)) return [];
  return Object.keys(value)
    .filter((id) => !PERSON_ID.test(id))
    .map((id) => ({
      ...source.keyAt(["people", id]),
      message:
        `person id \`${id}\` must be letters, digits, \`.\`, \`_\` or \`-\`, starting with a letter or digit ` +
        "(evidence names people by it)",
    }));
}

function readPeople(source: YamlSource, data: PolicyFile): LayerPerson[] | undefined {
  if (!data.people) return undefined;
  return Object.entries(data.people).map(([id, person]): LayerPerson => {
    const places: LayerPerson["places"] = {};
    const lists = { github: person.github ?? [], gitlab: person.gitlab ?? [], emails: person.emails ?? [] };
    for (const [kind, values] of Object.entries(lists)) {
      values.forEach((value, index) => {
        const key = accountKey(kind === "emails" ? "email" : (kind as "github" | "gitlab"), value);
        places[key] ??= source.valueAt(["people", id, kind, index]);
      });
    }
    return {
      id,
      ...(person.name !== undefined && { name: person.name }),
      ...lists,
      ...(person.left_on !== undefined && { leftOn: person.left_on }),
      places,
    };
  });
}

function toLayer(
  source: YamlSource,
  text: string,
  data: PolicyFile,
  controls: PolicyLayer["controls"],
): PolicyLayer {
  const layer: PolicyLayer = { file: source.file, text, controls, exceptions: [] };
  const branches = data.production_branches;
  if (branches) {
    layer.productionBranches = {
      ...(branches.default_branch !== undefined && { defaultBranch: branches.default_branch }),
      ...(branches.patterns && { patterns: branches.patterns }),
    };
  }
  if (data.findings) {
    layer.findings = {
      ...(data.findings.repository !== undefined && { repository: data.findings.repository }),
      ...(data.findings.labels && { labels: data.findings.labels }),
      ...(data.findings.group_change_requests !== undefined && {
        groupChangeRequests: data.findings.group_change_requests,
      }),
    };
  }
  if (data.audit) {
    layer.audit = {
      ...(data.audit.schedule !== undefined && { schedule: data.audit.schedule }),
      ...(data.audit.include && { include: data.audit.include }),
      ...(data.audit.exclude && { exclude: data.audit.exclude }),
    };
  }
  if (data.ledger) {
    layer.ledger = {
      ...(data.ledger.judged_within_minutes !== undefined && {
        judgedWithinMinutes: data.ledger.judged_within_minutes,
      }),
      ...(data.ledger.access_snapshots !== undefined && { accessSnapshots: data.ledger.access_snapshots }),
    };
  }
  layer.exceptions = (data.exceptions ?? []).map((exception, index): PolicyException => {
    const { repository, change_request: changeRequest, user, commit } = exception.subject;
    return {
      control: exception.control,
      subject: {
        ...(repository !== undefined && { repository }),
        ...(changeRequest !== undefined && { changeRequest }),
        ...(user !== undefined && { user }),
        // SHAs are compared case-insensitively: hosts report them in lower case.
        ...(commit !== undefined && { commit: commit.toLowerCase() }),
      },
      reason: exception.reason,
      approvedBy: exception.approved_by,
      expires: exception.expires,
      source: `${source.file}:${source.valueAt(["exceptions", index]).line}`,
    };
  });
  return layer;
}

function readControls(
  source: YamlSource,
  value: unknown,
  controls: readonly AnyControl[],
  problems: Problem[],
): PolicyLayer["controls"] {
  const result: PolicyLayer["controls"] = {};
  // A wrong type for `controls` itself was reported by the file schema.
  if (!isRecord(value)) return result;
  const ids = controls.map((control) => control.id);
  for (const [id, setting] of Object.entries(value)) {
    const path = ["controls", id];
    const control = controls.find((candidate) => candidate.id === id);
    if (!control) {
      problems.push({ ...source.keyAt(path), message: `unknown control \`${id}\`${didYouMean(id, ids)}` });
      continue;
    }
    if (!isRecord(setting)) {
      problems.push({
        ...source.valueAt(path),
        message: `\`controls.${id}\` must be a mapping such as \`{ enabled: true }\`, not ${describe(setting)}`,
      });
      continue;
    }
    const before = problems.length;
    for (const key of SETTING_KEYS) {
      if (key in setting && typeof setting[key] !== "boolean") {
        problems.push({
          ...source.valueAt([...path, key]),
          message: `\`controls.${id}.${key}\` must be true or false, not ${describe(setting[key])}`,
        });
      }
    }
    const params = Object.fromEntries(Object.entries(setting).filter(([key]) => !SETTING_KEYS.includes(key)));
    problems.push(...paramProblems(source, control, params));
    if (problems.length > before) continue;
    const { line, column } = source.keyAt(path);
    result[id] = {
      ...(typeof setting["enabled"] === "boolean" && { enabled: setting["enabled"] }),
      ...(typeof setting["locked"] === "boolean" && { locked: setting["locked"] }),
      params,
      line,
      column,
    };
  }
  return result;
}

/**
 * A layer may set only some parameters (the rest come from lower layers or defaults), so with an
 * object schema each given parameter is checked on its own; the merged whole is checked on resolve.
 */
function paramProblems(source: YamlSource, control: AnyControl, params: Record<string, unknown>): Problem[] {
  const path = ["controls", control.id];
  const shape = objectShape(control.params);
  if (!shape) {
    const result = control.params.safeParse(params, { error: policyErrorMap });
    return result.success
      ? []
      : issueProblems(source, control.params, path, result.error.issues, SETTING_KEYS);
  }
  const allowed = [...Object.keys(shape), ...SETTING_KEYS];
  return Object.entries(params).flatMap(([key, param]): Problem[] => {
    const schema = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (!schema) {
      return [
        {
          ...source.keyAt([...path, key]),
          message: `unknown setting \`${key}\` for control \`${control.id}\`${didYouMean(key, allowed)}`,
        },
      ];
    }
    const result = schema.safeParse(param, { error: policyErrorMap });
    return result.success ? [] : issueProblems(source, schema, [...path, key], result.error.issues);
  });
}

function unknownExceptionControls(
  source: YamlSource,
  value: unknown,
  controls: readonly AnyControl[],
): Problem[] {
  if (!Array.isArray(value)) return [];
  const ids = controls.map((control) => control.id);
  return value.flatMap((exception: unknown, index): Problem[] => {
    if (!isRecord(exception)) return [];
    const control = exception["control"];
    if (typeof control !== "string" || control.trim() === "" || ids.includes(control)) return [];
    return [
      {
        ...source.valueAt(["exceptions", index, "control"]),
        message: `exception for unknown control \`${control}\`${didYouMean(control, ids)}`,
      },
    ];
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
