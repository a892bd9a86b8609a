import { describe, expect, it } from "vitest";
import { API, BASE, gitlab, strictNock, testHost } from "./helpers.js";

strictNock();

describe("GitLab client behaviour through the host", () => {
  it("follows x-next-page across pages of group projects", async () => {
    gitlab()
      .get(`${API}/groups/acme/projects`)
      .query((query) => query.page === undefined)
      .reply(200, [{ id: 1, path_with_namespace: "acme/api" }], { "x-next-page": "2" })
      .get(`${API}/groups/acme/projects`)
      .query((query) => query.page === "2")
      .reply(200, [{ id: 2, path_with_namespace: "acme/web" }], { "x-next-page": "" });
    const { host } = testHost();
    const names: string[] = [];
    for await (const name of host.listRepositories("acme")) names.push(name);
    expect(names).toEqual(["acme/api", "acme/web"]);
    expect(host.stats.requests).toBe(2);
  });

  it("follows a Link rel=next header (keyset pagination)", async () => {
    gitlab()
      .get(`${API}/groups/acme/projects`)
      .query((query) => query.id_after === undefined)
      .reply(200, [{ id: 1, path_with_namespace: "acme/api" }], {
        link: `<${BASE}${API}/groups/acme/projects?id_after=1&per_page=100>; rel="next"`,
      })
      .get(`${API}/groups/acme/projects`)
      .query({ id_after: "1", per_page: "100" })
      .reply(200, [{ id: 7, path_with_namespace: "acme/tools/cli" }]);
    const { host } = testHost();
    const names: string[] = [];
    for await (const name of host.listRepositories("acme")) names.push(name);
    expect(names).toEqual(["acme/api", "acme/tools/cli"]);
  });

  it("never sends the token to another host named in a Link header", async () => {
    gitlab()
      .get(`${API}/groups/acme/projects`)
      .query(true)
      .reply(200, [], { link: `<https://evil.example/steal>; rel="next"` });
    const { host } = testHost();
    const names: string[] = [];
    await expect(async () => {
      for await (const name of host.listRepositories("acme")) names.push(name);
    }).rejects.toThrow("Refusing to follow https://evil.example");
  });

  const TREE = `${API}/projects/acme%2Fapi/repository/tree`;
  const policyEntry = {
    id: "a".repeat(40),
    name: "soc2.yml",
    type: "blob",
    path: ".gitlab/soc2.yml",
    mode: "100644",
  };

  it("retries a 429 after Retry-After, up to three times", async () => {
    gitlab()
      .get(TREE)
      .query({ path: ".gitlab", ref: "main", per_page: "100" })
      .reply(200, [policyEntry])
      .get(`${API}/projects/acme%2Fapi/repository/files/.gitlab%2Fsoc2.yml/raw`)
      .query({ ref: "main" })
      .reply(429, { message: "Too Many Requests" }, { "retry-after": "2" })
      .get(`${API}/projects/acme%2Fapi/repository/files/.gitlab%2Fsoc2.yml/raw`)
      .query({ ref: "main" })
      .reply(200, "controls: {}\n");
    const { host, waits } = testHost();
    expect(await host.readFile("acme/api", ".gitlab/soc2.yml", "main")).toBe("controls: {}\n");
    expect(waits).toEqual([2000]);
    expect(host.stats.requests).toBe(3);
  });

  it("gives up after three retries with the 429 as a provider error", async () => {
    gitlab()
      .get(TREE)
      .query(true)
      .times(4)
      .reply(429, { message: "Too Many Requests" }, { "retry-after": "1" });
    const { host, waits } = testHost();
    await expect(host.readFile("acme/api", "soc2.yml")).rejects.toMatchObject({
      name: "ProviderError",
      details: { host: "gitlab", status: 429 },
    });
    expect(waits).toEqual([1000, 1000, 1000]);
  });

  it("reads a missing policy file as null: no such directory, or no such entry in it", async () => {
    gitlab()
      .get(TREE)
      .query({ path: ".gitlab", per_page: "100" })
      .reply(404, { message: "404 Tree Not Found" })
      .get(TREE)
      .query({ per_page: "100" })
      .reply(200, [
        { id: "b".repeat(40), name: "README.md", type: "blob", path: "README.md", mode: "100644" },
      ]);
    const { host } = testHost();
    expect(await host.readFile("acme/api", ".gitlab/soc2.yml")).toBeNull();
    expect(await host.readFile("acme/api", "soc2.yml")).toBeNull();
  });

  it.each([
    ["a submodule", { type: "commit", mode: "160000" }],
    ["a symbolic link", { type: "blob", mode: "120000" }],
    ["a directory", { type: "tree", mode: "040000" }],
  ])("says the policy path is %s, never reads it as no file or as the policy", async (what, entry) => {
    gitlab()
      .get(TREE)
      .query({ path: ".gitlab", ref: "main", per_page: "100" })
      .reply(200, [{ ...policyEntry, ...entry }]);
    const { host } = testHost();
    await expect(host.readFile("acme/api", ".gitlab/soc2.yml", "main")).rejects.toThrow(
      `acme/api:.gitlab/soc2.yml@main is ${what}, not a file: soc2-bot reads only a regular file there`,
    );
  });

  it("fails rather than stop early when a list never ends (no silent cut at the page bound)", async () => {
    gitlab()
      .get(`${API}/groups/acme/projects`)
      .query(true)
      .times(1000)
      .reply(function (uri) {
        const page = Number(new URL(uri, BASE).searchParams.get("page") ?? 1);
        return [
          200,
          [{ id: page, path_with_namespace: `acme/p${page}` }],
          { "x-next-page": String(page + 1) },
        ];
      });
    const { host } = testHost();
    const names: string[] = [];
    await expect(
      (async () => {
        for await (const name of host.listRepositories("acme")) names.push(name);
      })(),
    ).rejects.toThrow(
      "GitLab GET /groups/acme/projects has more than 1000 pages: the list was not read to its end",
    );
    expect(names).toHaveLength(1000);
  });
});
