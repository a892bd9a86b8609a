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

  it("retries a 429 after Retry-After, up to three times", async () => {
    gitlab()
      .get(`${API}/projects/acme%2Fapi/repository/files/.gitlab%2Fsoc2.yml/raw`)
      .query({ ref: "main" })
      .reply(429, { message: "Too Many Requests" }, { "retry-after": "2" })
      .get(`${API}/projects/acme%2Fapi/repository/files/.gitlab%2Fsoc2.yml/raw`)
      .query({ ref: "main" })
      .reply(200, "controls: {}\n");
    const { host, waits } = testHost();
    expect(await host.readFile("acme/api", ".gitlab/soc2.yml", "main")).toBe("controls: {}\n");
    expect(waits).toEqual([2000]);
    expect(host.stats.requests).toBe(2);
  });

  it("gives up after three retries with the 429 as a provider error", async () => {
    gitlab()
      .get(`${API}/projects/acme%2Fapi/repository/files/soc2.yml/raw`)
      .times(4)
      .reply(429, { message: "Too Many Requests" }, { "retry-after": "1" });
    const { host, waits } = testHost();
    await expect(host.readFile("acme/api", "soc2.yml")).rejects.toMatchObject({
      name: "ProviderError",
      details: { host: "gitlab", status: 429 },
    });
    expect(waits).toEqual([1000, 1000, 1000]);
  });

  it("reads a missing policy file as null", async () => {
    gitlab()
      .get(`${API}/projects/acme%2Fapi/repository/files/soc2.yml/raw`)
      .reply(404, { message: "404 File Not Found" });
    const { host } = testHost();
    expect(await host.readFile("acme/api", "soc2.yml")).toBeNull();
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
