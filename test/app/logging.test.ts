import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, REDACTED } from "../../src/app/logger.js";

const INSTALLATION_TOKEN = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";
const PRIVATE_KEY = readFileSync(new URL("../fixtures/app/private-key.pem", import.meta.url), "utf8");
const KEY_BODY_LINE = PRIVATE_KEY.split("\n")[1] ?? "";
const WEBHOOK_SECRET = "whsec-correct-horse-battery-staple";
const PERSONAL_TOKEN = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";

/** A logger writing into memory; `lines` are the parsed JSON lines, `text` everything written. */
function memoryLogger(level: "debug" | "warn" = "debug") {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString("utf8"));
      done();
    },
  });
  const log = createLogger({ level, destination, secrets: [WEBHOOK_SECRET, undefined] });
  return {
    log,
    text: () => chunks.join(""),
    lines: () =>
      chunks
        .join("")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

function expectNoSecret(text: string): void {
  for (const secret of [INSTALLATION_TOKEN, WEBHOOK_SECRET, PERSONAL_TOKEN, KEY_BODY_LINE, "BEGIN RSA"]) {
    expect(text).not.toContain(secret);
  }
  // Escaped as it would be inside JSON, too.
  expect(text).not.toContain(JSON.stringify(PRIVATE_KEY).slice(1, 80));
}

describe("createLogger", () => {
  it("keeps tokens, private keys, webhook secrets and Authorization headers out of every line", () => {
    const memory = memoryLogger();
    memory.log.info(`installation token ${INSTALLATION_TOKEN} issued`);
    memory.log.warn(
      {
        installation: 42,
        token: INSTALLATION_TOKEN,
        privateKey: PRIVATE_KEY,
        secret: WEBHOOK_SECRET,
        request: {
          method: "POST",
          url: "https://api.github.com/app/installations/42/access_tokens",
          headers: { authorization: `bearer ${INSTALLATION_TOKEN}`, "x-hub-signature-256": "sha256=abc" },
        },
        note: `the key was ${PRIVATE_KEY}`,
      },
      "loaded credentials",
    );

    const text = memory.text();
    expectNoSecret(text);
    const [message, object] = memory.lines();
    expect(message?.msg).toBe(`installation token ${REDACTED} issued`);
    expect(object).toMatchObject({
      msg: "loaded credentials",
      installation: 42,
      token: REDACTED,
      privateKey: REDACTED,
      secret: REDACTED,
      request: {
        method: "POST",
        url: "https://api.github.com/app/installations/42/access_tokens",
        headers: { authorization: REDACTED, "x-hub-signature-256": REDACTED },
      },
      note: `the key was ${REDACTED}\n`,
    });
  });

  it("scrubs interpolated arguments, errors and the bindings of child loggers", () => {
    const memory = memoryLogger();
    const child = memory.log.child({
      req: { headers: { authorization: `token ${PERSONAL_TOKEN}`, "user-agent": "GitHub-Hookshot/1" } },
    });
    child.info("retrying with %s", PERSONAL_TOKEN);
    child.error(new Error(`request failed: Authorization: token ${INSTALLATION_TOKEN}`));
    child.error({ err: new Error(`bad secret ${WEBHOOK_SECRET} for ${PERSONAL_TOKEN}`) }, "webhook");

    const text = memory.text();
    expectNoSecret(text);
    const [interpolated, thrown, wrapped] = memory.lines();
    expect(interpolated).toMatchObject({
      msg: `retrying with ${REDACTED}`,
      req: { headers: { authorization: REDACTED, "user-agent": "GitHub-Hookshot/1" } },
    });
    expect(thrown).toMatchObject({
      msg: `request failed: Authorization: token ${REDACTED}`,
      err: { type: "Error", message: `request failed: Authorization: token ${REDACTED}` },
    });
    // The webhook secret has no recognisable shape: it is masked because the logger was told its value.
    expect(wrapped).toMatchObject({
      msg: "webhook",
      err: { type: "Error", message: `bad secret ${REDACTED} for ${REDACTED}` },
    });
  });

  it("writes nothing below its level", () => {
    const quiet = memoryLogger("warn");
    quiet.log.info({ installation: 1 }, "not written");
    quiet.log.warn({ installation: 1 }, "written");
    expect(quiet.lines()).toEqual([expect.objectContaining({ level: 40, msg: "written", installation: 1 })]);
  });
});
