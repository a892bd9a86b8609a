/**
 * GitHub's JSON answers parsed with JSON.parse. @octokit/request 10 parses every JSON answer with
 * json-with-bigint, about 7 times the CPU of JSON.parse (bench/json-parse.ts: 1.7 ms against
 * 0.24 ms for an 84 KB page of pull requests), and an audit's pages block the event loop that also
 * answers pull request checks. GitHub's identifiers do not need BigInt: node ids are strings,
 * GraphQL's `databaseId` is an Int (32 bits; `fullDatabaseId` is a BigInt sent as a string) and REST
 * ids (int64) are around 10^10 today, far below the 2^53 a JavaScript number holds exactly.
 *
 * How: the client's requests carry `parseSuccessResponseBody: false`, so octokit takes a successful
 * answer's data from the fetch response's `body` as it is; the fetch below reads the answer and
 * puts there what octokit would have parsed (JSON parsed, text as text, anything else as an
 * ArrayBuffer). Errors, 304 Not Modified, 204/205 and HEAD are left to octokit, untouched, so its
 * error messages, conditional requests and the rate-limit handlers see what they always saw.
 */

const PARSES_JSON = Symbol("soc2-bot JSON.parse fetch");
type ParsingFetch = typeof fetch & { [PARSES_JSON]?: true };

/** The fetch octokit should use so its successful answers are parsed with JSON.parse (idempotent). */
export function parsingJsonAnswers(base: typeof fetch): typeof fetch {
  if ((base as ParsingFetch)[PARSES_JSON]) return base;
  const parsing: ParsingFetch = async (input, init) => {
    const response = await base(input, init);
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    // What octokit itself answers without reading a body, or reads as an error.
    if (method === "HEAD" || [204, 205, 304].includes(response.status) || response.status >= 400) {
      return response;
    }
    return withParsedBody(response);
  };
  parsing[PARSES_JSON] = true;
  return parsing;
}

/** A client's `request` options with the parsing fetch and octokit's own parse turned off. */
export function withJsonAnswers<R extends { fetch?: typeof fetch } & Record<string, unknown>>(
  request: R | undefined,
  base: typeof fetch,
): R & { fetch: typeof fetch; parseSuccessResponseBody: false } {
  return { ...(request as R), fetch: parsingJsonAnswers(base), parseSuccessResponseBody: false };
}

/**
 * The answer again, readable as before (a request that asks octokit to parse after all still can),
 * with `body` holding the parsed data, decided as @octokit/request's getResponseData decides.
 */
async function withParsedBody(response: Response): Promise<Response> {
  const contentType = response.headers.get("content-type");
  const mime = contentType === null ? undefined : mediaType(contentType);
  let raw: string | ArrayBuffer;
  let data: unknown;
  if (mime === undefined) {
    raw = await response.text();
    data = raw;
  } else if (mime.type === "application/json" || mime.type === "application/scim+json") {
    raw = await response.text();
    try {
      data = JSON.parse(raw);
    } catch {
      // octokit answers an unparsable JSON body with its text; so do we.
      data = raw;
    }
  } else if (
    mime.type.startsWith("text/") ||
    (mime.charset === "utf-8" && mime.type !== "application/octet-stream")
  ) {
    raw = await response.text();
    data = raw;
  } else {
    raw = await response.arrayBuffer();
    data = raw;
  }
  const answer = new Response(raw, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  Object.defineProperty(answer, "url", { value: response.url });
  Object.defineProperty(answer, "redirected", { value: response.redirected });
  Object.defineProperty(answer, "body", { value: data });
  return answer;
}

/** The type and charset of a Content-Type header, lower-cased (RFC 9110 section 8.3). */
function mediaType(header: string): { type: string; charset?: string } {
  const [type = "", ...parameters] = header.split(";");
  let charset: string | undefined;
  for (const parameter of parameters) {
    const equals = parameter.indexOf("=");
    if (equals < 0 || parameter.slice(0, equals).trim().toLowerCase() !== "charset") continue;
    charset = parameter
      .slice(equals + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1")
      .toLowerCase();
  }
  return { type: type.trim().toLowerCase(), ...(charset === undefined ? {} : { charset }) };
}
