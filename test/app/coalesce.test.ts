import { describe, expect, it } from "vitest";
import { createCoalescer } from "../../src/app/coalesce.js";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("createCoalescer", () => {
  it("turns a burst of events for one change into one run and exactly one more, never overlapping", async () => {
    const coalesce = createCoalescer();
    const gates = [deferred(), deferred()];
    let running = 0;
    let overlapped = false;
    let runs = 0;
    const work = async () => {
      running += 1;
      overlapped ||= running > 1;
      await gates[runs++]!.promise;
      running -= 1;
    };
    const burst = [coalesce("acme/api#1", work), coalesce("acme/api#1", work), coalesce("acme/api#1", work)];
    gates[0]!.resolve();
    await Promise.resolve();
    gates[1]!.resolve();
    await Promise.all(burst);
    expect(runs).toBe(2);
    expect(overlapped).toBe(false);
  });

  it("runs different changes independently, and runs again after a burst has settled", async () => {
    const coalesce = createCoalescer();
    const seen: string[] = [];
    await Promise.all([
      coalesce("a", async () => void seen.push("a")),
      coalesce("b", async () => void seen.push("b")),
    ]);
    await coalesce("a", async () => void seen.push("a again"));
    expect(seen).toEqual(["a", "b", "a again"]);
  });

  it("reports a failure to its callers, and a failure does not swallow a requested re-run", async () => {
    const coalesce = createCoalescer();
    await expect(coalesce("x", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    const gate = deferred();
    let attempts = 0;
    const flaky = async () => {
      attempts += 1;
      if (attempts === 1) {
        await gate.promise;
        throw new Error("first fails");
      }
    };
    const first = coalesce("y", flaky);
    const second = coalesce("y", flaky);
    gate.resolve();
    await Promise.all([first, second]);
    expect(attempts).toBe(2);
  });
});
