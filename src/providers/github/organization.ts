/** Organization facts from the REST API. Owners see more than members; the rest is "unknown". */
import {
  known,
  unreadable,
  type Invitation,
  type Known,
  type Member,
  type Organization,
  type Permission,
} from "../../model/index.js";
import {
  describeFailure,
  isForbidden,
  providerError,
  readKnown,
  recordUnreadable,
  type GitHubContext,
} from "./http.js";
import { list, mapKnown } from "./repository.js";
import { InvitationAnswer, OrganizationAnswer, parseAnswer, RepositoryAnswer } from "./schema.js";
import { z } from "zod";

export const ORG_ADMINISTRATION_READ = "organization administration:read (members:read is not enough)";
export const MEMBERS_READ = "members:read";

const Login = z.object({ login: z.string() });

const BASE_PERMISSIONS: Record<string, Permission> = {
  none: "none",
  read: "read",
  write: "write",
  admin: "admin",
};

export async function collectOrganization(ctx: GitHubContext, org: string): Promise<Organization> {
  const answer = await ctx.octokit
    .request("GET /orgs/{org}", { org })
    .catch((error: unknown) => Promise.reject(providerError(error, `organization ${org}`, MEMBERS_READ)));
  const settings = parseAnswer(OrganizationAnswer, answer.data, `GET /orgs/${org}`);

  // GitHub leaves these fields out for anyone but owners (and apps with organization administration).
  const hidden = (what: string): Known<never> =>
    recordUnreadable(ctx, org, what, ORG_ADMINISTRATION_READ, { message: `GitHub did not return ${what}` });
  const twoFactorRequired =
    typeof settings.two_factor_requirement_enabled === "boolean"
      ? known(settings.two_factor_requirement_enabled)
      : hidden("two_factor_requirement_enabled");
  const base = settings.default_repository_permission;
  const basePermission: Known<Permission> =
    typeof base === "string"
      ? BASE_PERMISSIONS[base]
        ? known(BASE_PERMISSIONS[base])
        : unreadable(ORG_ADMINISTRATION_READ, `unexpected default_repository_permission "${base}"`)
      : hidden("default_repository_permission");

  const logins = (params: Record<string, string>) =>
    list(ctx, "GET /orgs/{org}/members", { org, ...params }, Login).then((members) =>
      members.map((m) => m.login),
    );

  const [owners, everyone, withoutTwoFactor, invitations, outside] = await Promise.all([
    readKnown(ctx, org, "owners", MEMBERS_READ, () => logins({ role: "admin" })),
    readKnown(ctx, org, "members", MEMBERS_READ, () => logins({ role: "all" })),
    // GitHub answers 422 to non-owners asking for the 2FA filter: unreadable, not an error.
    readKnown(
      ctx,
      org,
      "members without two-factor authentication",
      ORG_ADMINISTRATION_READ,
      () => logins({ filter: "2fa_disabled" }),
      [422],
    ),
    readInvitations(ctx, org),
    readKnown(ctx, org, "outside collaborators", MEMBERS_READ, () =>
      list(ctx, "GET /orgs/{org}/outside_collaborators", { org }, Login).then((users) =>
        users.map((u) => u.login),
      ),
    ),
  ]);

  // Repositories then tell outside collaborators from this list instead of asking each time.
  ctx.outsideCollaborators.delete(org.toLowerCase());
  if (outside.known) ctx.outsideCollaborators.set(org.toLowerCase(), new Set(outside.value));

  const members: Known<Member[]> = !owners.known
    ? owners
    : mapKnown(everyone, (all) => {
        const ownerSet = new Set(owners.value);
        return all.map((login): Member => ({ login, role: ownerSet.has(login) ? "owner" : "member" }));
      });

  return {
    login: settings.login,
    url: settings.html_url,
    twoFactorRequired,
    basePermission,
    members,
    membersWithoutTwoFactor: withoutTwoFactor,
    invitations,
    outsideCollaborators: outside,
  };
}

/**
 * Pending invitations. GitHub Enterprise Server has no organization invitations endpoint: its 404
 * (the answer carries X-GitHub-Enterprise-Version) means "not available on this host", which no
 * permission would change, not a missing permission.
 */
async function readInvitations(ctx: GitHubContext, org: string): Promise<Known<Invitation[]>> {
  try {
    return known(
      (await list(ctx, "GET /orgs/{org}/invitations", { org }, InvitationAnswer)).map((i): Invitation => ({
        login: i.login,
        email: i.email,
        role: i.role,
        invitedAt: i.created_at,
        inviter: i.inviter?.login ?? null,
      })),
    );
  } catch (error) {
    const failure = describeFailure(error);
    const enterprise = failure.headers["x-github-enterprise-version"];
    if (failure.status === 404 && enterprise !== undefined) {
      return recordUnreadable(
        ctx,
        org,
        "invitations",
        notOnThisHost(`GitHub Enterprise Server ${enterprise}`),
        error,
      );
    }
    if (isForbidden(error)) return recordUnreadable(ctx, org, "invitations", MEMBERS_READ, error);
    throw providerError(error, `invitations of ${org}`, MEMBERS_READ);
  }
}

/** The "permission" of a fact the host does not offer at all: no grant would make it readable. */
export function notOnThisHost(host: string): string {
  return `not available on this host (${host} has no such API; no permission would show it)`;
}

export async function* listRepositories(ctx: GitHubContext, org: string): AsyncIterable<string> {
  const pages = ctx.octokit.paginate.iterator("GET /orgs/{org}/repos", { org, type: "all", per_page: 100 });
  try {
    for await (const page of pages) {
      const repos = parseAnswer(
        z.array(z.object({ full_name: z.string() }).loose()),
        page.data,
        `GET /orgs/${org}/repos`,
      );
      for (const repo of repos) {
        // Kept only when complete: collectRepository asks GitHub for anything less.
        const settings = RepositoryAnswer.safeParse(repo);
        if (settings.success) ctx.listedRepositories.set(repo.full_name.toLowerCase(), settings.data);
        else ctx.listedRepositories.delete(repo.full_name.toLowerCase());
        yield repo.full_name;
      }
    }
  } catch (error) {
    throw providerError(error, `repositories of ${org}`, "metadata:read");
  }
}
