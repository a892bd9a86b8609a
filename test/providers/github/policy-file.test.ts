/**
 * Reading a policy file: only a genuine 404 means "no policy file". Anything else that is not the
 * file (GitHub's documented directory, symlink and submodule answers) or that failed (5xx, rate
 * limit) is an error that says why: an audit must never fall back to the default policy silently.
 */
import { describe, expect, it } from "vitest";
import { ProviderError } from "../../../src/errors.js";
import { documentedExample } from "../../fidelity/openapi.js";
import { github, testHost, useHttpMock } from "./mock.js";

const ROUTE = "GET /repos/{owner}/{repo}/contents/{path}";
const PATH = "/repos/acme/.github/contents/.github%2Fsoc2.yml";

function read() {
  return testHost().readFile("acme/.github", ".github/soc2.yml");
}

describe("readFile", () => {
  useHttpMock();

  it("reads GitHub's documented file answer", async () => {
    const file = documentedExample<{ content: string }>(ROUTE, "response-if-content-is-a-file");
    github().get(PATH).reply(200, file);

    expect(await read()).toBe(Buffer.from(file.content, "base64").toString("utf8"));
  });

  it.each([
    [
      "response-if-content-is-a-directory",
      /a directory at acme\/\.github:\.github\/soc2\.yml, not a policy file/,
    ],
    ["response-if-content-is-a-symlink", /a symlink \(to \/path\/to\/symlink\/target\)/],
    ["response-if-content-is-a-submodule", /a submodule at acme\/\.github/],
  ])("refuses GitHub's documented %s answer with a clear error", async (example, message) => {
    github().get(PATH).reply(200, documentedExample(ROUTE, example));

    await expect(read()).rejects.toThrow(message);
  });

  it("answers null only for a genuine 404", async () => {
    github().get(PATH).reply(404, { message: "Not Found" });

    expect(await read()).toBeNull();
  });

  it("stops with the reason on a server error instead of reporting no policy file", async () => {
    github().get(PATH).reply(502, { message: "Bad Gateway" });

    const error = await read().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as Error).message).toBe(
      "GitHub could not read file acme/.github:.github/soc2.yml: 502 Bad Gateway",
    );
  });

  it("stops with the reason on an exhausted rate limit", async () => {
    github()
      .get(PATH)
      .reply(
        403,
        { message: "API rate limit exceeded" },
        { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1700000000" },
      );

    await expect(read()).rejects.toThrow(
      /rate limit exhausted while reading file acme\/\.github:\.github\/soc2\.yml/,
    );
  });
});
