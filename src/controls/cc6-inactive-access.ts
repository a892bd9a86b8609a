import { z } from "zod";
import type { ChangeRequest, DeployKey, DirectPush, Organization, Snapshot } from "../model/index.js";
import { grantEvidence, grantSubject, noWriteAccess, writeGrants, type WriteGrant } from "./access-grants.js";
import { deployKeySubject, organizationSubject } from "./subjects.js";
import { defineControl, type Evaluation, type PeopleDirectory } from "./types.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/** The latest thing a person was seen doing with their access, by the host's record. */
interface Activity {
  at: number;
  what: string;
}

export const inactiveAccess = defineControl({
  id: "cc6.inactive-access",
  criterion: "CC6.2",
  title: "Write access is in use",
  appliesTo: "organization",
  params: z
    .object({
      days: z.number().int().min(1).default(90),
    })
    .strict(),
  passes:
    "Each member, outside collaborator and deploy key with write or admin access was used within the policy's number of days.",
  fails:
    "An account holds write or admin access nobody used within the policy's number of days: access no longer needed.",
  remediation:
    "Remove the access (or lower it to read) if it is no longer needed; otherwise record why it is kept.",
  evidence:
    "Each account with write or admin access (owners, base permission, collaborators) and its latest activity in the audit period: changes opened, commits, pushes, reviews, merges, direct pushes; activity of every account of a person (the policy's people) counts.",
  unknownWhen:
    "The audit period does not cover the policy's number of days, the changes read were truncated, the host gives no last use (deploy keys), or the members, base permission or collaborators cannot be read.",
  evaluate(organization, { params, at, snapshot, people }) {
    const orgSubject = organizationSubject(organization.login, organization.url);
    const { grants, gaps } = writeGrants(organization, snapshot);
    const results: Evaluation[] = [];
    if (gaps.length > 0) {
      results.push({
        subject: orgSubject,
        outcome: "unknown",
        reason: `Cannot list every account with write access, so inactive ones may be missing: cannot read ${gaps.join("; ")}.`,
        evidence: gaps.map((gap) => ({ label: "unreadable", value: gap })),
      });
    }
    const activity = activityByPerson(snapshot, people);
    const window = judgeWindow(snapshot, at, params.days);
    for (const grant of grants) results.push(judgeGrant(organization, grant, activity, window, people));
    for (const repository of snapshot.repositories) {
      if (!repository.deployKeys.known) {
        const { permission, reason } = repository.deployKeys;
        results.push({
          subject: deployKeySubject(repository.fullName, "*"),
          outcome: "unknown",
          reason: `Cannot read the deploy keys of ${repository.fullName}: the token lacks ${permission} (${reason}).`,
          evidence: [{ label: "missing permission", value: permission }],
        });
        continue;
      }
      for (const key of repository.deployKeys.value) {
        if (!key.readOnly) results.push(judgeDeployKey(repository.fullName, key, params.days));
      }
    }
    if (results.length === 0) results.push(noWriteAccess(orgSubject));
    return results;
  },
});

interface Window {
  days: number;
  /** Activity at or after this time (ms) is recent enough. */
  from: number;
  /** Why "no activity seen" cannot mean "not used", or null when it can. */
  blind: string | null;
  period: string;
}

/**
 * Only a period read in full from `from` to the evaluation time can show that an account did nothing:
 * a shorter period, or changes read only in part, leaves the older (or hidden) activity unseen.
 */
function judgeWindow(snapshot: Snapshot, at: Date, days: number): Window {
  const from = at.getTime() - days * DAY_MS;
  const period = snapshot.period;
  const periodText = period ? `${day(Date.parse(period.since))} to ${day(Date.parse(period.until))}` : "none";
  let blind: string | null = null;
  if (period === null) {
    blind = "the snapshot covers no audit period";
  } else if (snapshot.repositories.length === 0) {
    blind = "no repository or change was given to this evaluation";
  } else if (Date.parse(period.since) > from || Date.parse(period.until) < at.getTime()) {
    blind =
      `the audit period read (${periodText}) does not cover the last ${days} days (${day(from)} to ${day(at.getTime())}): ` +
      `an audit from ${day(from)} would show it`;
  } else {
    const truncated = snapshot.changeRequests
      .filter(isTruncated)
      .map((change) => `${change.repository}#${change.number}`);
    if (truncated.length > 0) {
      blind =
        `the host returned only part of the commits, reviews or pushes of ${truncated.length} change(s) ` +
        `(${truncated.slice(0, 5).join(", ")}${truncated.length > 5 ? ", …" : ""}): the missing part may show it`;
    }
  }
  return { days, from, blind, period: periodText };
}

function judgeGrant(
  organization: Organization,
  grant: WriteGrant,
  activity: Map<string, Activity>,
  window: Window,
  people: PeopleDirectory,
): Evaluation {
  const subject = grantSubject(organization.login, grant);
  const person = people.personOf({ login: grant.login });
  const last = person === null ? undefined : activity.get(person);
  const evidence = [
    ...grantEvidence(grant),
    ...(person?.startsWith("person:") ? [{ label: "person", value: people.describe(person) }] : []),
    { label: "audit period", value: window.period },
    last
      ? { label: "last activity", value: last.what, at: new Date(last.at).toISOString() }
      : { label: "last activity", value: "none in the audit period" },
  ];
  const who = `@${grant.login} (${grant.permission})`;
  if (last && last.at >= window.from) {
    return {
      subject,
      outcome: "pass",
      reason: `${who} was active on ${day(last.at)}, within the last ${window.days} days: ${last.what}.`,
      evidence,
    };
  }
  const seen = last ? `last seen on ${day(last.at)} (${last.what})` : "not seen active in the audit period";
  if (window.blind !== null) {
    return {
      subject,
      outcome: "unknown",
      reason: `${who} was ${seen}, but ${window.blind}.`,
      evidence,
    };
  }
  return {
    subject,
    outcome: "fail",
    reason: `${who} was ${seen}: no use of the access in the last ${window.days} days (since ${day(window.from)}).`,
    evidence,
  };
}

/**
 * The snapshot holds no last use of a deploy key (GitHub's REST deploy key `last_used` is not
 * collected): never called active on a guess, never inactive on no evidence.
 */
function judgeDeployKey(repository: string, key: DeployKey, days: number): Evaluation {
  return {
    subject: deployKeySubject(repository, key.id),
    outcome: "unknown",
    reason:
      `Deploy key "${key.title}" can push to ${repository}, and the snapshot holds no record of its last use: ` +
      `the host's last use of the key (GitHub's deploy key \`last_used\`) would show whether it was used within ${days} days.`,
    evidence: [
      { label: "deploy key", value: key.title },
      { label: "read-only", value: "no" },
      ...(key.addedBy ? [{ label: "added by", value: key.addedBy }] : []),
      ...(key.createdAt ? [{ label: "added", value: key.createdAt, at: key.createdAt }] : []),
    ],
  };
}

/**
 * The latest activity of each person (the policy's people: any of their accounts) in what the audit
 * read: changes opened, commits authored or committed, pushes, reviews, merges, direct pushes.
 */
function activityByPerson(snapshot: Snapshot, people: PeopleDirectory): Map<string, Activity> {
  const latest = new Map<string, Activity>();
  eachActivity(snapshot, (login, at, what) => {
    const key = people.personOf({ login });
    if (key === null) return;
    const known = latest.get(key);
    const described = `@${login} ${what}`;
    // ties go to the first in text order, so the answer does not depend on the order of the records
    if (!known || at > known.at || (at === known.at && described < known.what)) {
      latest.set(key, { at, what: described });
    }
  });
  return latest;
}

/**
 * Every use of an account the snapshot shows: (login, time in ms, what). The one definition of
 * activity, shared with the audit's digest of it (src/pipeline/access-facts.ts).
 */
export function eachActivity(
  facts: Pick<Snapshot, "changeRequests" | "directPushes">,
  visit: (login: string, at: number, what: string, source: ChangeRequest | DirectPush) => void,
): void {
  const seen = (
    source: ChangeRequest | DirectPush,
    login: string | null,
    time: string | null,
    what: string,
  ): void => {
    if (!login || !time) return;
    const at = Date.parse(time);
    if (!Number.isNaN(at)) visit(login, at, what, source);
  };
  for (const change of facts.changeRequests) {
    const name = `${change.repository}#${change.number}`;
    seen(change, change.author, change.createdAt, `opened ${name}`);
    seen(change, change.mergedBy, change.mergedAt, `merged ${name}`);
    for (const commit of change.commits) {
      const sha = commit.sha.slice(0, 7);
      seen(change, commit.authorLogin, commit.authoredAt, `authored ${sha} in ${name}`);
      seen(change, commit.committerLogin, commit.committedAt, `committed ${sha} in ${name}`);
    }
    for (const push of change.pushes) seen(change, push.actor, push.at, `pushed to ${name}`);
    for (const review of change.reviews)
      seen(change, review.reviewer, review.submittedAt, `reviewed ${name}`);
  }
  for (const push of facts.directPushes) {
    const where = `${push.repository}@${push.sha.slice(0, 7)}`;
    seen(push, push.pushedBy, push.pushedAt ?? push.at, `pushed ${where}`);
    seen(push, push.authorLogin, push.at, `authored ${where}`);
    seen(push, push.committerLogin, push.at, `committed ${where}`);
  }
}

/** Changes the host returned only part of: activity may be missing from them. */
export function isTruncated(change: ChangeRequest): boolean {
  return change.commitsTruncated || change.truncated.length > 0;
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
