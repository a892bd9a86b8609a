import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Document, Node } from "yaml";
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
    document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch (error) {
    // Whatever the parser cannot cope with is a problem with the file, reported, never a crash.
    return { problems: [{ ...at(0), message: `cannot read this file as YAML: ${errorMessage(error)}` }] };
  }
  const problems: Problem[] = [...document.errors, ...document.warnings].map((error) => ({
    ...at(error.pos[0]),
    message: yamlMessage(error.code, error.message, text.slice(error.pos[0])),
  }));
  if (problems.length > 0) return { problems: sortProblems(problems) };

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
        const pair = node.items.find(
          (item) => isScalar(item.key) && String(item.key.value) === String(segment),
        );
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
