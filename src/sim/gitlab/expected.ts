import { invitationSubject } from "../../controls/subjects.js";
import type { ExpectedFinding } from "../../sample/generate.js";

/**
 * The sample's planted findings as a GitLab audit must find them, changed only where GitLab cannot
 * show the fact as GitHub does (see README.md beside this file):
 * - cc6.base-permission: GitLab has no base permission; the group's visibility stands for it and
 *   "internal" reads as "read", which the default policy allows. A "write" base permission has no
 *   GitLab equivalent, so there is no finding.
 * - cc6.stale-invitations: GitLab invites by e-mail, so an invitation of @login is one of their
 *   address (login@example.com in the sim) and the finding's subject is that masked address.
 */
export function expectedOnGitLab(group: string, expected: readonly ExpectedFinding[]): ExpectedFinding[] {
  return expected
    .filter((finding) => finding.control !== "cc6.base-permission")
    .map((finding) => {
      const invited = finding.subject.startsWith(`${group}:invite:@`)
        ? finding.subject.slice(`${group}:invite:@`.length)
        : null;
      if (finding.control !== "cc6.stale-invitations" || invited === null) return finding;
      return {
        ...finding,
        subject: invitationSubject(group, { login: null, email: `${invited}@example.com` }).id,
      };
    });
}
