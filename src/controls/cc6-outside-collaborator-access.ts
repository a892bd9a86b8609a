import { z } from "zod";
import { atLeast, Permission, type Collaborator, type Repository } from "../model/index.js";
import {
  collaboratorSubject,
  repositoryNotCollected,
  repositorySubject,
  unknownBecause,
} from "./subjects.js";
import { defineControl, type Evaluation } from "./types.js";

const Allowance = z
  .object({
    user: z.string().min(1),
    /** Omitted: the user may have the higher access on any repository. */
    repository: z.string().min(1).optional(),
  })
  .strict();
type Allowance = z.infer<typeof Allowance>;

export const outsideCollaboratorAccess = defineControl({
  id: "cc6.outside-collaborator-access",
  criterion: "CC6.2",
  title: "Outside collaborators have limited access",
  appliesTo: "repository",
  params: z
    .object({
      max_permission: Permission.default("read"),
      allowed: z.array(Allowance).default([]),
    })
    .strict(),
  passes:
    "Each outside collaborator's access is within the policy's maximum, or allowed by the policy by name.",
  fails: "Someone outside the organization has more access than the policy allows.",
  remediation:
    "Lower the outside collaborator's permission, make them a member, or list them under `allowed` in the policy.",
  evidence: "Each outside collaborator of the repository and their permission.",
  unknownWhen: "The repository could not be collected or its collaborators cannot be read.",
  evaluate(repository, { params }) {
    const notCollected = repositoryNotCollected(repository);
    if (notCollected) return [notCollected];
    const collaborators = repository.collaborators;
    if (!collaborators.known) {
      return [unknownBecause(repositorySubject(repository), "the repository's collaborators", collaborators)];
    }
    const outsiders = collaborators.value.filter((collaborator) => collaborator.outside);
    if (outsiders.length === 0) {
      return [
        {
          subject: repositorySubject(repository),
          outcome: "pass",
          reason: "No outside collaborators.",
          evidence: [],
        },
      ];
    }
    return outsiders.map((outsider) => judge(repository, outsider, params.max_permission, params.allowed));
  },
});

function judge(
  repository: Repository,
  outsider: Collaborator,
  maxPermission: Permission,
  allowed: Allowance[],
): Evaluation {
  const subject = collaboratorSubject(repository.fullName, outsider.login);
  const evidence = [
    { label: "outside collaborator", value: outsider.login },
    { label: "permission", value: outsider.permission },
    { label: "maximum permission", value: maxPermission },
  ];
  if (atLeast(maxPermission, outsider.permission)) {
    return {
      subject,
      outcome: "pass",
      reason: `Outside collaborator @${outsider.login} has ${outsider.permission}, within the allowed ${maxPermission}.`,
      evidence,
    };
  }
  const allowance = allowed.find((entry) => allows(entry, outsider.login, repository.fullName));
  if (allowance) {
    return {
      subject,
      outcome: "pass",
      reason: `Outside collaborator @${outsider.login} has ${outsider.permission}: allowed by policy.`,
      evidence: [
        ...evidence,
        {
          label: "allowed by policy",
          value: `${allowance.user} on ${allowance.repository ?? "any repository"}`,
        },
      ],
    };
  }
  return {
    subject,
    outcome: "fail",
    reason:
      `Outside collaborator @${outsider.login} has ${outsider.permission}, above the allowed ${maxPermission}: ` +
      `lower it or allow it in the policy.`,
    evidence,
  };
}

/** Logins and repository names are case-insensitive on the code hosts, so the policy's are too. */
function allows(entry: Allowance, login: string, repository: string): boolean {
  if (entry.user.toLowerCase() !== login.toLowerCase()) return false;
  return entry.repository === undefined || entry.repository.toLowerCase() === repository.toLowerCase();
}
