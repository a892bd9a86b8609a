import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, visit } from "yaml";
import type { Document, Node, Pair, YAMLMap } from "yaml";
import type { SourcePosition } from "../errors.js";

export type Problem = SourcePosition & { message: string };
export type Path = ReadonlyArray<string | number>;

/**
 * Enough aliases for a person reusing a list or two; far too few for a "billion laughs" file, which
 * yaml stops with an error instead of expanding it into memory.
 */
const MAX_ALIAS_COUNT = 100;

/** A parsed YAML file that can say where any value or key of its plain-JS form was written. */
export interface YamlSource {
  file: string;
  value: unknown;
  /** Position of the value at `path`, or of the nearest enclosing value that exists. */
  valueAt(path: Path): SourcePosition;
  /** Position of the key `path[last]` in its mapping, or of the value when it is not a mapping key. */
  keyAt(path: Path): SourcePosition;
}

/** Mappings up to this many keys are searched in order rather than indexed. */
const SMALL_MAPPING = 16;

/** Far above any real policy (the shipped default is a few KiB); bounds the work a hostile file causes. */
const MAX_POLICY_BYTES = 1024 * 1024;

export function readYaml(text: string, file: string): { source?: YamlSource; problems: Problem[] } {
  const lineCounter = new LineCounter();
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_POLICY_BYTES) {
    return {
      problems: [
        { file, line: 1, column: 1, message: `the file is ${bytes} bytes; a policy may be at most 1 MiB` },
      ],
    };
  }
  let document: Document.Parsed;
  try {
    // yaml's own duplicate-key check compares each key with every earlier one of its mapping
    // (quadratic: 25,000 keys took minutes); duplicateKeys below does the same in one pass.
    document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  } catch (error) {
    // Whatever the parser cannot cope with is a problem with the file, reported, never a crash.
    return { problems: [{ ...at(0), message: `cannot read this file as YAML: ${errorMessage(error)}` }] };
  }
  const problems: Problem[] = [...document.errors, ...document.warnings].map((error) => ({
    ...at(error.pos[0]),
    message: yamlMessage(error.code, error.message, textAt(text, error.pos[0])),
  }));
  if (problems.length > 0) return { problems: sortProblems(problems) };
  const duplicates = duplicateKeys(document).map((offset) => ({
    ...at(offset),
    message: yamlMessage("DUPLICATE_KEY", "", textAt(text, offset)),
  }));
  if (duplicates.length > 0) return { problems: sortProblems(duplicates) };

  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const firstAlias = text.search(/\*[^\s,[\]{}]/);
    const message =
      error instanceof ReferenceError && /alias/i.test(error.message)
        ? `too many aliases (*name): the file would expand far beyond any policy; write the values out instead`
        : `cannot read this file as YAML: ${errorMessage(error)}`;
    return { problems: [{ ...at(Math.max(0, firstAlias)), message }] };
  }

  function nodeAt(path: Path): { node: Node | undefined; keyOffset: number | undefined; found: boolean } {
    let node: unknown = document.contents;
    let keyOffset: number | undefined;
    let deepest: { node: Node | undefined; keyOffset: number | undefined } = {
      node: asNode(node),
      keyOffset,
    };
    for (const segment of path) {
      if (isAlias(node)) node = node.resolve(document);
      let next: unknown;
      keyOffset = undefined;
      if (isMap(node)) {
        const pair = pairWithKey(node, String(segment));
        next = pair ? pair.value : undefined;
        if (pair && isScalar(pair.key)) keyOffset = pair.key.range?.[0];
        // A key with no value (`enabled:`) has an empty or no value node: point at the key instead.
        const empty = next === null || (isScalar(next) && next.range?.[0] === next.range?.[1]);
        if (pair && empty) return { node: asNode(pair.key), keyOffset, found: true };
      } else if (isSeq(node) && typeof segment === "number") {
        next = node.items[segment];
      }
      if (next === undefined) return { ...deepest, found: false };
      node = next;
      deepest = { node: asNode(node), keyOffset };
    }
    return { ...deepest, found: true };
  }

  // A large mapping's keys are indexed once: a file with thousands of unknown keys asks for each
  // one's position, and a search through the mapping per question would make that quadratic. A small
  // one (a person, an exception's subject) is searched: thousands of little indexes cost more.
  const indexes = new WeakMap<YAMLMap, Map<string, Pair>>();
  function pairWithKey(map: YAMLMap, key: string): Pair | undefined {
    if (map.items.length <= SMALL_MAPPING) {
      return map.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
    }
    let index = indexes.get(map);
    if (index === undefined) {
      index = new Map();
      for (const item of map.items) {
        // The first of equal keys, as a search in order would find.
        if (isScalar(item.key) && !index.has(String(item.key.value))) index.set(String(item.key.value), item);
      }
      indexes.set(map, index);
    }
    return index.get(key);
  }

  const start = (node: Node | undefined): number => node?.range?.[0] ?? 0;
  return {
    problems: [],
    source: {
      file,
      value,
      valueAt: (path) => at(start(nodeAt(path).node)),
      keyAt: (path) => {
        const found = nodeAt(path);
        return at(found.found && found.keyOffset !== undefined ? found.keyOffset : start(found.node));
      },
    },
  };
}

/**
 * Offsets of keys that repeat an earlier key of their mapping. Keys are compared as the plain-JS form
 * sees them (`1` and `"1"` are one property there), so no value is silently overwritten.
 */
function duplicateKeys(document: Document.Parsed): number[] {
  const offsets: number[] = [];
  visit(document, {
    Map(_, map) {
      const names = map.items.map(({ key }) => (isScalar(key) ? String(key.value) : undefined));
      if (names.length <= SMALL_MAPPING) {
        // Compared pairwise: no set for each of thousands of small mappings.
        names.forEach((name, index) => {
          if (name !== undefined && names.indexOf(name) < index) offsets.push(keyOffset(map, index));
        });
        return;
      }
      const seen = new Set<string>();
      names.forEach((name, index) => {
        if (name === undefined) return;
        if (seen.has(name)) offsets.push(keyOffset(map, index));
        else seen.add(name);
      });
    },
  });
  return offsets;
}

function keyOffset(map: YAMLMap, index: number): number {
  const key = map.items[index]?.key;
  return (isScalar(key) ? key.range?.[0] : undefined) ?? 0;
}

/** The text from `offset`, enough of it for a message (a key or a tag, never the rest of the file). */
function textAt(text: string, offset: number): string {
  return text.slice(offset, offset + 1024);
}

/** In reading order, as a person fixes them. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  return [...problems].sort(
    (a, b) => a.line - b.line || a.column - b.column || a.message.localeCompare(b.message),
  );
}

function asNode(value: unknown): Node | undefined {
  return isNode(value) ? value : undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** yaml's messages, reworded where a policy author would not know what the parser means. */
function yamlMessage(code: string, message: string, rest: string): string {
  // yaml's error range covers one character: the key is the text up to its colon.
  const key = (/^("[^"\n]*"|'[^'\n]*'|[^:,{}[\]\n]*)/.exec(rest)?.[1] ?? "").trim();
  switch (code) {
    case "DUPLICATE_KEY":
      return `duplicate key \`${key}\`: each key may appear only once in a mapping`;
    case "MULTIPLE_DOCS":
      return "more than one YAML document (`---`): a policy file is a single document";
    case "TAG_RESOLVE_FAILED":
      return `unsupported YAML tag \`${rest.split(/\s/)[0] ?? ""}\`: a policy uses plain values only`;
    default:
      // The parser recurses per nesting level and reports running out of stack as a parse error.
      return /call stack/i.test(message)
        ? "values are nested too deeply to be a policy"
        : `YAML syntax error: ${message}`;
  }
}
