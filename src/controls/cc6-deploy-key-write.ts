import { z } from "zod";
import type { DeployKey, Repository } from "../model/index.js";
import { deployKeySubject, repositoryNotCollected, repositorySubject, unknownBecause } from "./subjects.js";
import { defineControl, type Evaluation } from "./types.js";

const Allowance = z
  .object({
    repository: z.string().min(1),
    /** The key's title exactly as the code host shows it. */
    title: z.string().min(1),
  })
  .strict();
type Allowance = z.infer<typeof Allowance>;

export const deployKeyWrite = defineControl({
  id: "cc6.deploy-key-write",
  criterion: "CC6.1",
  title: "Deploy keys are read-only",
  appliesTo: "repository",
  params: z
    .object({
      allowed: z.array(Allowance).default([]),
    })
    .strict(),
  passes: "Each deploy key is read-only, or its write access is allowed by the policy by title.",
  fails: "A deploy key can push to the repository without review by any person.",
  remediation:
    "Replace the key with a read-only one, remove it if unused, or list it under `allowed` in the policy.",
  evidence: "Each deploy key of the repository: read-only or not, title, who added it and when.",
  unknownWhen: "The repository could not be collected or its deploy keys cannot be read.",
  evaluate(repository, { params }) {
    const notCollected = repositoryNotCollected(repository);
    if (notCollected) return [notCollected];
    const keys = repository.deployKeys;
    if (!keys.known) {
      return [unknownBecause(repositorySubject(repository), "the repository's deploy keys", keys)];
    }
    if (keys.value.length === 0) {
      return [
        { subject: repositorySubject(repository), outcome: "pass", reason: "No deploy keys.", evidence: [] },
      ];
    }
    return keys.value.map((key) => judge(repository, key, params.allowed));
  },
});

function judge(repository: Repository, key: DeployKey, allowed: Allowance[]): Evaluation {
  const subject = deployKeySubject(repository.fullName, key.id);
  const evidence = [
    { label: "deploy key", value: key.title },
    { label: "access", value: key.readOnly ? "read-only" : "write" },
    { label: "added", value: key.createdAt ?? "unknown", ...(key.createdAt ? { at: key.createdAt } : {}) },
    { label: "added by", value: key.addedBy ?? "unknown" },
  ];
  if (key.readOnly) {
    return { subject, outcome: "pass", reason: `Deploy key "${key.title}" is read-only.`, evidence };
  }
  // Repository names are case-insensitive on the code hosts; titles are matched exactly, so a
  // differently named key is not allowed by accident.
  const isAllowed = allowed.some(
    (entry) =>
      entry.repository.toLowerCase() === repository.fullName.toLowerCase() && entry.title === key.title,
  );
  if (isAllowed) {
    return {
      subject,
      outcome: "pass",
      reason: `Deploy key "${key.title}" has write access: allowed by policy.`,
      evidence: [...evidence, { label: "allowed by policy", value: `${repository.fullName}: ${key.title}` }],
    };
  }
  const when = key.createdAt ? `on ${key.createdAt.slice(0, 10)}` : "at an unknown time";
  const who = key.addedBy ? `by @${key.addedBy}` : "by an unknown user";
  return {
    subject,
    outcome: "fail",
    reason: `Deploy key "${key.title}" has write access (added ${when} ${who}): make it read-only or allow it.`,
    evidence,
  };
}
