import { describe, expect, it } from "vitest";
import { deployKeyWrite } from "../../src/controls/cc6-deploy-key-write.js";
import type { Evaluation } from "../../src/controls/types.js";
import type { DeployKey } from "../../src/model/index.js";
import { makeContext, makeRepository, unknownOf } from "../fixtures/build.js";

const defaults = deployKeyWrite.params.parse({});

const readOnly: DeployKey = {
  id: "41",
  title: "ci checkout",
  readOnly: true,
  createdAt: "2026-01-10T08:00:00Z",
  addedBy: "alice",
};
const releaseBot: DeployKey = {
  id: "42",
  title: "release <bot>",
  readOnly: false,
  createdAt: "2026-03-04T12:30:00Z",
  addedBy: "bob",
};

function withKeys(value: DeployKey[], overrides = {}) {
  return makeRepository({ deployKeys: { known: true, value }, ...overrides });
}

function outcomes(results: Evaluation[]) {
  return results.map((result) => [result.subject.id, result.outcome]);
}

describe("cc6.deploy-key-write", () => {
  it("defaults to no allowances and requires both repository and title in one", () => {
    expect(defaults).toEqual({ allowed: [] });
    expect(() => deployKeyWrite.params.parse({ allowed: [{ repository: "acme/api" }] })).toThrow();
  });

  it("passes the repository once when it has no deploy keys", () => {
    const results = deployKeyWrite.evaluate(makeRepository(), makeContext(defaults));
    expect(outcomes(results)).toEqual([["acme/api", "pass"]]);
    expect(results[0]?.reason).toBe("No deploy keys.");
  });

  it("gives one result per key: read-only passes, write fails naming title, date and who added it", () => {
    const results = deployKeyWrite.evaluate(withKeys([readOnly, releaseBot]), makeContext(defaults));
    expect(outcomes(results)).toEqual([
      ["acme/api:key:41", "pass"],
      ["acme/api:key:42", "fail"],
    ]);
    expect(results[1]).toEqual({
      subject: { kind: "deploy-key", id: "acme/api:key:42", repository: "acme/api" },
      outcome: "fail",
      // Raw title: reporters escape it for where it goes.
      reason:
        'Deploy key "release <bot>" has write access (added on 2026-03-04 by @bob): make it read-only or allow it.',
      evidence: [
        { label: "deploy key", value: "release <bot>" },
        { label: "access", value: "write" },
        { label: "added", value: "2026-03-04T12:30:00Z", at: "2026-03-04T12:30:00Z" },
        { label: "added by", value: "bob" },
      ],
    });
  });

  it("says so when the date and author of a write key are not known", () => {
    const anonymous = { ...releaseBot, createdAt: null, addedBy: null };
    const [result] = deployKeyWrite.evaluate(withKeys([anonymous]), makeContext(defaults));
    expect(result?.outcome).toBe("fail");
    expect(result?.reason).toMatch(/added at an unknown time by an unknown user/);
  });

  it("passes a write key allowed by repository (case-insensitive) and exact title", () => {
    const params = deployKeyWrite.params.parse({
      allowed: [{ repository: "Acme/API", title: "release <bot>" }],
    });
    const [result] = deployKeyWrite.evaluate(withKeys([releaseBot]), makeContext(params));
    expect(result?.outcome).toBe("pass");
    expect(result?.reason).toMatch(/allowed by policy/);
  });

  it("does not allow a key by another title or on another repository", () => {
    const params = deployKeyWrite.params.parse({
      allowed: [
        { repository: "acme/api", title: "Release <bot>" },
        { repository: "acme/web", title: "release <bot>" },
      ],
    });
    expect(deployKeyWrite.evaluate(withKeys([releaseBot]), makeContext(params))[0]?.outcome).toBe("fail");
  });

  it("still judges the keys of an archived repository", () => {
    const archived = withKeys([releaseBot], { archived: true });
    expect(outcomes(deployKeyWrite.evaluate(archived, makeContext(defaults)))).toEqual([
      ["acme/api:key:42", "fail"],
    ]);
  });

  it("is one unknown on the repository when the keys are unreadable", () => {
    const repository = makeRepository({ deployKeys: unknownOf("administration:read") });
    const results = deployKeyWrite.evaluate(repository, makeContext(defaults));
    expect(outcomes(results)).toEqual([["acme/api", "unknown"]]);
    expect(results[0]?.reason).toMatch(/deploy keys.*administration:read/);
  });

  it("is unknown when the repository could not be collected", () => {
    const repository = makeRepository({ collectionError: "timeout" });
    expect(outcomes(deployKeyWrite.evaluate(repository, makeContext(defaults)))).toEqual([
      ["acme/api", "unknown"],
    ]);
  });
});
