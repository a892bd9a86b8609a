import { readFileSync } from "node:fs";
import { z } from "zod";
import { defineControl } from "../../src/controls/types.js";
import type { AnyControl } from "../../src/controls/types.js";
import { PolicyError } from "../../src/errors.js";

/**
 * Small stand-ins for the real controls, so these tests exercise the policy module alone: the same
 * ids and parameter shapes, no evaluation.
 */
const common = {
  passes: "passes",
  fails: "fails",
  evidence: "evidence",
  unknownWhen: "never",
  remediation: "fix it",
  evaluate: () => [],
};

export const FAKE_CONTROLS: readonly AnyControl[] = [
  defineControl({
    ...common,
    id: "cc8.independent-approval",
    criterion: "CC8.1",
    title: "Independent approval",
    appliesTo: "change-request",
    params: z
      .object({
        min_approvals: z.number().int().min(1).default(1),
        exclude_committers: z.boolean().default(true),
      })
      .strict(),
  }),
  defineControl({
    ...common,
    id: "cc8.no-direct-push",
    criterion: "CC8.1",
    title: "No direct push",
    appliesTo: "direct-push",
    params: z.object({}).strict(),
  }),
  defineControl({
    ...common,
    id: "cc6.outside-collaborator-access",
    criterion: "CC6.2",
    title: "Outside collaborators",
    appliesTo: "repository",
    params: z
      .object({
        max_permission: z.enum(["none", "read", "write", "admin"]).default("read"),
        allowed: z
          .array(z.object({ user: z.string(), repository: z.string().optional() }).strict())
          .default([]),
      })
      .strict(),
  }),
];

/** The smallest valid shipped default for the fake controls. */
export const FAKE_DEFAULT = `version: 1
controls:
  cc8.independent-approval: { enabled: true, min_approvals: 1 }
  cc8.no-direct-push: { enabled: true }
  cc6.outside-collaborator-access: { enabled: true }
findings:
  repository: compliance
`;

export function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/policy/${name}`, import.meta.url), "utf8");
}

/** The problems a PolicyError lists; fails the test when `run` does not throw one. */
export function problemsOf(run: () => unknown): PolicyError["problems"] {
  try {
    run();
  } catch (error) {
    if (error instanceof PolicyError) return error.problems;
    throw error;
  }
  throw new Error("expected a PolicyError, but nothing was thrown");
}
