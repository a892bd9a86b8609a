import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { pinoHttp } from "pino-http";
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

describe("secrets of any length and every secret header", () => {
  const SHORT_SECRET = "s3cr7";

  function logged(secrets: readonly string[]) {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString("utf8"));
        done();
      },
    });
    return { log: createLogger({ level: "debug", destination, secrets }), text: () => chunks.join("") };
  }

  it("masks a GitLab webhook secret shorter than 8 characters in the request line Probot's server logs", async () => {
    const memory = logged([SHORT_SECRET]);
    // Probot's server logs every request with pino-http, headers and all, as bindings of a child logger.
    const server = createServer((req, res) => {
      pinoHttp({ logger: memory.log.child({ name: "http" }) })(req, res);
      res.writeHead(401).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await fetch(`http://127.0.0.1:${port}/gitlab/webhook`, {
      method: "POST",
      headers: {
        "x-gitlab-token": SHORT_SECRET,
        "x-gitlab-event": "Merge Request Hook",
        "private-token": "glpat-abcdefghijklmnopqrst",
        "x-hub-signature": "sha1=0123456789abcdef0123456789abcdef01234567",
      },
      body: "{}",
    }).then((response) => response.text());
    await new Promise((resolve) => server.close(resolve));

    const text = memory.text();
    expect(text).toContain('"x-gitlab-event":"Merge Request Hook"');
    expect(text).toContain(`"x-gitlab-token":"${REDACTED}"`);
    expect(text).toContain(`"private-token":"${REDACTED}"`);
    expect(text).toContain(`"x-hub-signature":"${REDACTED}"`);
    expect(text).not.toContain(SHORT_SECRET);
    expect(text).not.toContain("0123456789abcdef");
  });

  it("masks a short secret standing alone in free text, and leaves longer words that contain it", () => {
    const memory = logged([SHORT_SECRET, "pw"]);
    memory.log.warn(`token was ${SHORT_SECRET}; "${SHORT_SECRET}" again; s3cr7ive is another word; pw=pw`);
    const { msg } = JSON.parse(memory.text()) as { msg: string };
    expect(msg).toBe(
      `token was ${REDACTED}; "${REDACTED}" again; s3cr7ive is another word; ${REDACTED}=${REDACTED}`,
    );
  });

  it("masks x-gitlab-token in a child logger's bindings, whatever the token looks like", () => {
    const memory = logged([]);
    memory.log
      .child({ req: { headers: { "x-gitlab-token": "plain-words-no-pattern" } } })
      .info("GitLab webhook");
    expect(memory.text()).toContain(`"x-gitlab-token":"${REDACTED}"`);
    expect(memory.text()).not.toContain("plain-words-no-pattern");
  });
});
