import { z } from "zod";
import type { Repository, Snapshot } from "../model/index.js";
import { repositoryNotCollected, repositorySubject, unknownBecause } from "./subjects.js";
import { defineControl } from "./types.js";

export const repoAdminCount = defineControl({
  id: "cc6.repo-admin-count",
  criterion: "CC6.3",
  title: "Few repository administrators",
  appliesTo: "repository",
  params: z
    .object({
      max_admins: z.number().int().min(0).default(3),
    })
    .strict(),
  passes:
    "No more people and teams than the policy allows administer the repository (organization owners are counted by cc6.owner-count).",
  fails: "More people or teams than the policy allows can change the repository's settings and protection.",
  remediation: "Lower the permission of administrators who do not need it to maintain or write.",
  evidence:
    "The repository's collaborators and teams with their permissions, minus the organization's owners.",
  unknownWhen: "The repository could not be collected, or its collaborators or teams cannot be read.",
  evaluate(repository, { params, snapshot }) {
    const notCollected = repositoryNotCollected(repository);
    if (notCollected) return [notCollected];
    const subject = repositorySubject(repository);
    const collaborators = repository.collaborators;
    if (!collaborators.known) {
      return [unknownBecause(subject, "the repository's collaborators", collaborators)];
    }
    const owners = ownersOf(repository, snapshot);
    const people = collaborators.value
      .filter((collaborator) => collaborator.permission === "admin")
      .filter((collaborator) => !owners?.has(collaborator.login.toLowerCase()))
      .map((collaborator) => collaborator.login);
    const teams = repository.teams.known
      ? repository.teams.value.filter((team) => team.permission === "admin").map((team) => team.slug)
      : [];
    const count = people.length + teams.length;
    const named = [...people.map((login) => `@${login}`), ...teams.map((slug) => `team ${slug}`)].join(", ");
    const ownersNote = owners ? "" : " (organization owners could not be read, so owners are counted too)";
    const evidence = [
      { label: "maximum admins", value: String(params.max_admins) },
      ...people.map((login) => ({ label: "admin", value: login })),
      ...teams.map((slug) => ({ label: "admin team", value: slug })),
      ...(owners ? [] : [{ label: "organization owners", value: "unreadable: counted as admins" }]),
    ];
    if (count > params.max_admins) {
      return [
        {
          subject,
          outcome: "fail",
          reason: `${count} admins (${named}), more than the maximum of ${params.max_admins}${ownersNote}.`,
          evidence,
        },
      ];
    }
    // Teams not readable: admin teams could push the count over the maximum, so a pass would be a guess.
    if (!repository.teams.known) {
      return [unknownBecause(subject, "the repository's teams", repository.teams)];
    }
    return [
      {
        subject,
        outcome: "pass",
        reason:
          count === 0
            ? `No admins besides organization owners, within the maximum of ${params.max_admins}${ownersNote}.`
            : `${count} admin${count === 1 ? "" : "s"} (${named}), within the maximum of ${params.max_admins}${ownersNote}.`,
        evidence,
      },
    ];
  },
});

/**
 * Owners are admins of every repository and are counted once, by cc6.owner-count. Undefined when the
 * owners cannot be read (or the snapshot's organization is not this repository's): then nobody is excluded.
 */
function ownersOf(repository: Repository, snapshot: Snapshot): Set<string> | undefined {
  const organization = snapshot.organization;
  if (!organization || !organization.members.known) return undefined;
  if (!repository.fullName.toLowerCase().startsWith(`${organization.login.toLowerCase()}/`)) return undefined;
  return new Set(
    organization.members.value
      .filter((member) => member.role === "owner")
      .map((member) => member.login.toLowerCase()),
  );
}
