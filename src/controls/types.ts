import type { z } from "zod";
import type { ChangeRequest, DirectPush, Organization, Repository, Snapshot } from "../model/index.js";

export type Criterion = "CC6.1" | "CC6.2" | "CC6.3" | "CC7.1" | "CC7.2" | "CC8.1";

/** What a result is about. `id` is unique per kind and stable across runs (it feeds fingerprints). */
export type SubjectKind =
  | "organization"
  | "member"
  | "invitation"
  | "repository"
  | "collaborator"
  | "deploy-key"
  | "change-request"
  | "direct-push"
  | "access-review"
  | "revocation";

export interface Subject {
  kind: SubjectKind;
  /**
   * e.g. "acme", "acme:@bob", "acme/api", "acme/api#12", "acme/api@1a2b3c4", "acme/api:key:42",
   * "access-review:2026-Q4:platform", "revocation:2026-Q4:platform:collaborator:bob:write".
   */
  id: string;
  repository?: string;
  /** Change request number. */
  number?: number;
  /** A person: member, collaborator, author, pusher. */
  user?: string;
  commit?: string;
  url?: string;
}

export type Outcome = "pass" | "fail" | "not-applicable" | "unknown" | "excepted";

export interface Evidence {
  label: string;
  value: string;
  url?: string;
  /** ISO time the evidence refers to (an approval, a merge). */
  at?: string;
}

/** What a control returns for one subject. */
export interface Evaluation {
  subject: Subject;
  outcome: Exclude<Outcome, "excepted">;
  /** One line a person can read: why it passed, failed, or could not be decided. */
  reason: string;
  evidence: Evidence[];
}

/** An evaluation as the engine reports it: with the control's identity and any exception applied. */
export interface Result extends Omit<Evaluation, "outcome"> {
  control: string;
  criterion: Criterion;
  title: string;
  outcome: Outcome;
  /** Set when an exception turned a failure into "excepted", or when one was matched. */
  exception?: AppliedException;
  /** What to do to pass; present on fail and unknown. */
  remediation?: string;
}

export interface AppliedException {
  reason: string;
  approvedBy: string;
  expires: string;
  /** file:line of the exception in the policy. */
  source: string;
}

export type AppliesTo = "organization" | "repository" | "change-request" | "direct-push";

export interface ChangeRequestSubject {
  changeRequest: ChangeRequest;
  /** The repository's facts, when collected (branch rules give the required checks). */
  repository: Repository | undefined;
}

export interface SubjectFacts {
  organization: Organization;
  repository: Repository;
  "change-request": ChangeRequestSubject;
  "direct-push": DirectPush;
}

/**
 * Who is who: the policy's `people:` map resolves an account (login on this host) or a commit
 * e-mail to the person it belongs to, so two accounts of one person are one person when judging
 * independence.
 */
export interface PeopleDirectory {
  /**
   * A stable key for the person behind an account or e-mail: "person:<id>" when the policy names
   * them, otherwise "login:<lower-case login>" or "email:<lower-case e-mail>"; null when neither is
   * given. Two identities are the same person exactly when their keys are equal.
   */
  personOf(identity: { login?: string | null; email?: string | null }): string | null;
  /** The policy's id of a person key ("person:alice" -> "alice"), for evidence; else the login or e-mail. */
  describe(key: string): string;
  /**
   * The policy's people (key "person:<id>") with their last day (YYYY-MM-DD) when the policy gives
   * one, for the leavers control. Absent: the directory names nobody.
   */
  persons?: readonly { key: string; leftOn?: string }[];
}

export interface ControlContext<P> {
  params: P;
  /** The people map of the policy in force (an identity directory when the policy declares none). */
  people: PeopleDirectory;
  /** Evaluation time: an input, never the clock, so evaluation is deterministic. */
  at: Date;
  snapshot: Snapshot;
  /** Whether `branch` is a production branch of `repository` under the effective policy. */
  isProductionBranch(repository: Repository | undefined, repositoryName: string, branch: string): boolean;
}

/** One control: one file in src/controls, one line in src/controls/index.ts. */
export interface Control<K extends AppliesTo = AppliesTo, P = unknown> {
  id: string;
  criterion: Criterion;
  title: string;
  appliesTo: K;
  /** Parameters with defaults; the policy's `controls.<id>` keys other than enabled/locked. */
  params: z.ZodType<P>;
  /** For the README table: what passes and what fails. */
  passes: string;
  fails: string;
  /** For the README table: the facts the control relies on, in a short sentence. */
  evidence: string;
  /** For the README table: when the control answers unknown instead of pass or fail. */
  unknownWhen: string;
  remediation: string;
  evaluate(subject: SubjectFacts[K], context: ControlContext<P>): Evaluation[];
}

/** Lets the registry hold controls of every kind and parameter type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyControl = Control<AppliesTo, any>;

export function defineControl<K extends AppliesTo, P>(control: Control<K, P>): Control<K, P> {
  return control;
}
