import { z } from "zod";
import { didYouMean } from "./suggest.js";
import type { Path, Problem, YamlSource } from "./yaml-source.js";

/**
 * Turns zod's issues into problems a policy author can act on: where (the offending value, or the
 * mapping a required key is missing from), which key, what was expected and what was written.
 */

/** Per-parse messages; a message written on a schema (e.g. the date format) takes precedence. */
export const policyErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case "invalid_type":
      return `must be ${expectedName(issue.expected)}, not ${describe(issue.input)}`;
    case "invalid_value":
      return `must be ${issue.values.map((value) => `\`${String(value)}\``).join(" or ")}, not ${describe(issue.input)}`;
    case "too_small":
      return bound("at least", "more than", issue.origin, issue.minimum, issue.inclusive, issue.input);
    case "too_big":
      return bound("at most", "less than", issue.origin, issue.maximum, issue.inclusive, issue.input);
    case "invalid_union":
      return `is not one of the allowed forms (got ${describe(issue.input)})`;
    default:
      return undefined;
  }
};

function bound(
  inclusiveWord: string,
  exclusiveWord: string,
  origin: string,
  limit: number | bigint,
  inclusive: boolean | undefined,
  input: unknown,
): string {
  const word = inclusive === false ? exclusiveWord : inclusiveWord;
  if (origin === "string") {
    return limit === 1 && inclusiveWord === "at least"
      ? "must not be empty"
      : `must be ${word} ${limit} characters long`;
  }
  if (origin === "array" || origin === "set") return `must list ${word} ${limit} items`;
  return `must be ${word} ${limit}, not ${describe(input)}`;
}

function expectedName(expected: string): string {
  const names: Record<string, string> = {
    string: "text",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
    array: "a list",
    object: "a mapping",
    record: "a mapping",
  };
  return names[expected] ?? expected;
}

/** A short description of what the file holds, for "must be X, not Y". */
export function describe(value: unknown): string {
  if (value === undefined || value === null) return "nothing";
  if (typeof value === "string") {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return typeof value;
}

/** `exceptions[0].expires`, `controls.cc6.owner-count.max_owners`. */
export function displayPath(path: Path): string {
  return path.reduce<string>(
    (shown, segment) =>
      typeof segment === "number" ? `${shown}[${segment}]` : shown ? `${shown}.${segment}` : segment,
    "",
  );
}

export function valueIn(value: unknown, path: Path): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, segment)) return undefined;
    current = (current satisfies object as Record<string | number, unknown>)[segment];
  }
  return current;
}

const HINTS: Record<string, string> = {
  version: "start the file with `version: 1`",
  expires: "every exception must end: add `expires: YYYY-MM-DD`",
};

/** Problems for zod `issues` found while validating the value at `base` in `source`. */
export function issueProblems(
  source: YamlSource,
  schema: z.ZodType,
  base: Path,
  issues: readonly z.core.$ZodIssue[],
  extraKeys: readonly string[] = [],
): Problem[] {
  return issues.flatMap((issue): Problem[] => {
    const path: Path = [
      ...base,
      ...issue.path.map((segment) => (typeof segment === "symbol" ? String(segment) : segment)),
    ];
    if (issue.code === "unrecognized_keys") {
      // `_extends` (Probot's convention, meta) is not offered in the list of what a key could be
      const allowed = [...objectKeys(schemaAt(schema, issue.path)), ...extraKeys].filter(
        (key) => !key.startsWith("_"),
      );
      return issue.keys.map((key) => ({
        ...source.keyAt([...path, key]),
        message: `unknown key \`${key}\`${where(path)}${didYouMean(key, allowed)}`,
      }));
    }
    const parentPath = path.slice(0, -1);
    const key = path[path.length - 1];
    const parent = valueIn(source.value, parentPath);
    if (
      typeof key === "string" &&
      parent !== null &&
      typeof parent === "object" &&
      !Array.isArray(parent) &&
      !Object.hasOwn(parent, key)
    ) {
      const hint = HINTS[key];
      return [
        {
          ...source.valueAt(parentPath),
          message: `missing required key \`${key}\`${where(parentPath)}${hint ? `: ${hint}` : ""}`,
        },
      ];
    }
    return [{ ...source.valueAt(path), message: `\`${displayPath(path)}\` ${issue.message}` }];
  });
}

function where(path: Path): string {
  return path.length === 0 ? "" : ` in \`${displayPath(path)}\``;
}

/** The schema under wrappers (default, optional, ...) that do not change the shape of the value. */
function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  for (let depth = 0; depth < 20 && current; depth++) {
    if (
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault ||
      current instanceof z.ZodOptional ||
      current instanceof z.ZodNullable ||
      current instanceof z.ZodReadonly ||
      current instanceof z.ZodNonOptional
    ) {
      current = current.def.innerType satisfies z.core.SomeType as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.def.in satisfies z.core.SomeType as z.ZodType;
    } else {
      return current;
    }
  }
  return current;
}

/** The keys an object schema allows (after unwrapping), or [] when it is not an object schema. */
export function objectKeys(schema: z.ZodType | undefined): string[] {
  return Object.keys(objectShape(schema) ?? {});
}

export function objectShape(schema: z.ZodType | undefined): Record<string, z.ZodType> | undefined {
  const inner = unwrap(schema);
  return inner instanceof z.ZodObject
    ? (inner.shape satisfies z.core.$ZodLooseShape as Record<string, z.ZodType>)
    : undefined;
}

/** The schema that validates the value at `path` inside a value validated by `schema`. */
function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  for (const segment of path) {
    const inner = unwrap(current);
    if (inner instanceof z.ZodObject) current = objectShape(inner)?.[String(segment)];
    else if (inner instanceof z.ZodArray) current = inner.def.element satisfies z.core.SomeType as z.ZodType;
    else if (inner instanceof z.ZodRecord)
      current = inner.def.valueType satisfies z.core.SomeType as z.ZodType;
    else return undefined;
  }
  return current;
}
