/**
 * Our wire schemas (zod) held against GitHub's documented schemas (OpenAPI): a field we rely on that
 * GitHub documents as nullable must accept null, one GitHub may leave out must accept its absence,
 * and a field GitHub does not document at all is one we can never receive.
 */
import { z } from "zod";
import { flatten, mayBeNull, type SchemaNode } from "./openapi.js";

export interface SchemaProblem {
  path: string;
  kind: "rejects-null" | "requires-optional" | "undocumented";
  detail: string;
}

/** The schema inside optional / nullable / default / readonly wrappers. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const def = current._zod.def as { type: string; innerType?: z.ZodType; in?: z.ZodType };
    // A transform reads what its input schema accepted.
    if (def.type === "pipe" && def.in) {
      current = def.in;
    } else if (
      ["optional", "nullable", "default", "prefault", "readonly", "catch"].includes(def.type) &&
      def.innerType
    ) {
      current = def.innerType;
    } else {
      return current;
    }
  }
}

function objectAlternatives(node: SchemaNode): SchemaNode[] {
  const schema = flatten(node);
  const alternatives = [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])].map((a) => flatten(a));
  if (alternatives.length === 0) return [schema];
  return alternatives.flatMap((a) => objectAlternatives(a));
}

/** Walks `ours` alongside GitHub's `documented` schema and lists every mismatch that can bite. */
export function compareWithDocumented(
  ours: z.ZodType,
  documented: SchemaNode,
  path = "(root)",
  problems: SchemaProblem[] = [],
): SchemaProblem[] {
  const inner = unwrap(ours);
  const schema = flatten(documented);
  if (inner instanceof z.ZodArray) {
    const items = schema.items ?? objectAlternatives(schema).find((a) => a.items)?.items;
    if (items) compareWithDocumented(inner.element as z.ZodType, items, `${path}[]`, problems);
    return problems;
  }
  if (inner instanceof z.ZodUnion) {
    for (const option of inner.options as z.ZodType[]) {
      if (unwrap(option) instanceof z.ZodObject) compareWithDocumented(option, documented, path, problems);
    }
    return problems;
  }
  if (!(inner instanceof z.ZodObject)) return problems;
  // Against a oneOf, our object must fit the alternative that has every field we name (or the first).
  const candidates = objectAlternatives(schema).filter((a) => a.type === "object" || a.properties);
  const keys = Object.keys(inner.shape);
  const target =
    candidates.find((c) => keys.every((k) => c.properties?.[k] !== undefined)) ?? candidates[0] ?? schema;
  for (const [key, field] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
    const at = `${path}.${key}`;
    const property = target.properties?.[key];
    if (!property) {
      if (target.additionalProperties === undefined || target.additionalProperties === false) {
        problems.push({ path: at, kind: "undocumented", detail: "GitHub documents no such field" });
      }
      continue;
    }
    if (mayBeNull(property) && !field.safeParse(null).success) {
      problems.push({
        path: at,
        kind: "rejects-null",
        detail: "GitHub documents it nullable; ours rejects null",
      });
    }
    if (!(target.required ?? []).includes(key) && !field.safeParse(undefined).success) {
      problems.push({
        path: at,
        kind: "requires-optional",
        detail: "GitHub may leave it out (not required); ours requires it",
      });
    }
    compareWithDocumented(field, property, at, problems);
  }
  return problems;
}
