import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { effectiveConfiguration, probotEnterpriseHost } from "../../src/app/configuration.js";
import { createProbotLogger } from "../../src/app/logger.js";
import { loadEnvFile } from "../../src/env-file.js";

function capture(): { output: PassThrough; text: () => string } {
  const output = new PassThrough();
  const chunks: string[] = [];
  output.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
  return { output, text: () => chunks.join("") };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("the logger under Probot's logging settings", () => {
  it("writes one name per JSON line, the child's, with LOG_FORMAT=json", async () => {
    const { output, text } = capture();
    const log = await createProbotLogger({ LOG_FORMAT: "json" }, { output });
    log
      .child({ name: "webhooks" })
      .child({ name: "gitlab" })
      .info({ repository: { name: "api" } }, "hello");
    log.info("root");
    await tick();
    const lines = text().trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]!.match(/"name":/g)).toHaveLength(2); // the line's own and the repository's
    expect(JSON.parse(lines[0]!)).toMatchObject({
      name: "gitlab",
      msg: "hello",
      repository: { name: "api" },
    });
    expect(JSON.parse(lines[1]!)).toMatchObject({ name: "soc2-bot", msg: "root", level: 30 });
  });

  it("honours LOG_FORMAT=pretty, LOG_LEVEL and LOG_LEVEL_IN_STRING, masking secrets first", async () => {
    const pretty = capture();
    const log = await createProbotLogger(
      { LOG_FORMAT: "pretty", LOG_LEVEL: "warn" },
      { output: pretty.output, secrets: ["s3cret-webhook-value"] },
    );
    log.child({ name: "scheduler" }).warn("signed with s3cret-webhook-value");
    log.info("not shown at warn");
    await tick();
    expect(pretty.text()).toMatch(/WARN.*\(scheduler\): signed with \[REDACTED\]/);
    expect(pretty.text()).not.toContain("not shown");
    expect(pretty.text()).not.toContain("s3cret-webhook-value");

    const json = capture();
    const stringLevel = await createProbotLogger(
      { LOG_FORMAT: "json", LOG_LEVEL_IN_STRING: "true" },
      { output: json.output },
    );
    stringLevel.error("broken");
    await tick();
    expect(JSON.parse(json.text())).toMatchObject({ level: "error", msg: "broken", name: "soc2-bot" });
  });
});

describe("the configuration logged at start", () => {
  it("names every setting and no secret", () => {
    const secrets = {
      PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----abc",
      WEBHOOK_SECRET: "whsec-123456",
      WEBHOOK_PROXY_URL: "https://smee.io/Secr3tChannel",
      DATABASE_URL: "postgres://soc2:pa55word@db.acme.test:5432/compliance",
      GITLAB_WEBHOOK_SECRET: "gl-hook-secret",
      GITLAB_TOKEN: "glpat-xyz",
      GITLAB_URL: "https://oauth2:glpat-xyz@gitlab.acme.test/api/v4",
      SENTRY_DSN: "https://key@o1.ingest.sentry.io/1",
    };
    const configuration = effectiveConfiguration({
      ...secrets,
      APP_ID: "123",
      GITHUB_API_URL: "https://ghe.acme.test/api/v3/",
      SOC2_SCHEDULER: "off",
      GH_ORG: "acme",
      NODE_ENV: "production",
    });
    expect(configuration).toMatchObject({
      githubApiUrl: "https://ghe.acme.test/api/v3",
      appId: "123",
      appKeyFrom: "PRIVATE_KEY",
      webhookSignature: "WEBHOOK_SECRET",
      webhookProxy: "smee channel set",
      ledger: "PostgreSQL db.acme.test:5432/compliance schema soc2_ledger",
      scheduler: "off",
      gitlab: "webhooks at /gitlab/webhook, API https://gitlab.acme.test",
      log: { level: "info", format: "json", sentry: "on" },
      organization: "acme",
    });
    const text = JSON.stringify(configuration);
    for (const value of [...Object.values(secrets), "pa55word", "soc2:", "Secr3tChannel", "glpat-xyz"]) {
      expect(text).not.toContain(value);
    }
  });

  it("says where the ledger is and that the manifest flow is pending without APP_ID", () => {
    expect(effectiveConfiguration({})).toMatchObject({
      githubApiUrl: "https://api.github.com",
      appId: "not set (manifest flow)",
      appKeyFrom: "not set",
      ledger: "embedded in .soc2-bot/ledger",
      scheduler: "on",
      gitlab: "off",
      log: { format: "pretty", sentry: "off" },
    });
  });
});

describe("GitHub Enterprise Server for Probot's manifest flow", () => {
  it("derives GHE_HOST and GHE_PROTOCOL from GITHUB_API_URL", () => {
    expect(probotEnterpriseHost({ GITHUB_API_URL: "https://ghe.acme.test/api/v3/" })).toEqual({
      GHE_HOST: "ghe.acme.test",
      GHE_PROTOCOL: "https",
    });
    expect(probotEnterpriseHost({ GITHUB_API_URL: "http://127.0.0.1:8080/api/v3" })).toEqual({
      GHE_HOST: "127.0.0.1:8080",
      GHE_PROTOCOL: "http",
    });
  });

  it("leaves github.com, an API at another path, and a GHE_HOST already set alone", () => {
    expect(probotEnterpriseHost({})).toBeUndefined();
    expect(probotEnterpriseHost({ GITHUB_API_URL: "https://api.github.com" })).toBeUndefined();
    expect(probotEnterpriseHost({ GITHUB_API_URL: "https://proxy.acme.test/github" })).toBeUndefined();
    expect(
      probotEnterpriseHost({ GITHUB_API_URL: "https://ghe.acme.test/api/v3", GHE_HOST: "ghe.acme.test" }),
    ).toBeUndefined();
  });
});

describe(".env", () => {
  const set: string[] = [];
  afterEach(() => {
    for (const name of set.splice(0)) delete process.env[name];
  });

  it("is read when it exists, and never overrides the environment", () => {
    const dir = mkdtempSync(join(tmpdir(), "soc2-env-"));
    writeFileSync(join(dir, ".env"), 'H9_FROM_FILE="file value"\nH9_BOTH=file\n');
    set.push("H9_FROM_FILE", "H9_BOTH");
    process.env.H9_BOTH = "environment";
    expect(loadEnvFile(join(dir, ".env"))).toBe(join(dir, ".env"));
    expect(process.env.H9_FROM_FILE).toBe("file value");
    expect(process.env.H9_BOTH).toBe("environment");
  });

  it("is optional", () => {
    const dir = mkdtempSync(join(tmpdir(), "soc2-env-"));
    expect(loadEnvFile(join(dir, ".env"))).toBeUndefined();
  });
});
