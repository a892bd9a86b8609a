import type { Result } from "../controls/types.js";
import { evaluate } from "../engine/index.js";
import { PolicyError } from "../errors.js";
import {
  SNAPSHOT_SCHEMA_VERSION,
  type ChangeRequest,
  type PolicyFile,
  type Snapshot,
} from "../model/index.js";
import type { Policy } from "../policy/types.js";
import type { CodeHost, CheckReport } from "../providers/types.js";
import { buildChangeCheck } from "../reporters/check.js";
import { TOOL_VERSION } from "../version.js";
import { policyOf } from "./policies.js";

export interface ChangeCheckTarget {
  repository: string;
  number: number;
}

export interface ChangeCheckOutcome {
  check: CheckReport;
  changeRequest: ChangeRequest;
  results: Result[];
  policy: Policy | null;
}

/**
 * collect -> evaluate -> report for one change request. The policy comes from the base branch of
 * the change (and the organization's policy repository), never from its head: a change cannot switch
 * off the controls that judge it. A broken policy gives a failing check naming file, line and column.
 */
export async function runChangeCheck(
  host: CodeHost,
  target: ChangeCheckTarget,
  options: { organization: string; now: Date; publish?: boolean },
): Promise<ChangeCheckOutcome> {
  const { changeRequest, repository } = await host.collectChangeContext(target.repository, target.number);
  const policyFiles = await readPolicyFiles(
    host,
    options.organization,
    target.repository,
    changeRequest.baseBranch,
  );

  let policy: Policy | null = null;
  let results: Result[] = [];
  let policyError: PolicyError | undefined;
  try {
    policy = policyOf(policyFiles);

    const snapshot: Snapshot = {
      schemaVersion: SNAPSHOT_SCHEMA_VERSION,
      collector: {
        tool: "soc2-bot",
        version: TOOL_VERSION,
        host: host.host,
        baseUrl: host.baseUrl,
        actor: "app",
        permissions: {},
      },
      collectedAt: options.now.toISOString(),
      period: null,
      unreadable: [],
      organization: null,
      repositories: [repository],
      changeRequests: [changeRequest],
      directPushes: [],
      policyFiles,
    };
    results = evaluate(snapshot, policy, options.now).results.filter(
      (r) => r.subject.kind === "change-request",
    );
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    policyError = error;
  }

  const check = buildChangeCheck({
    changeRequest,
    results,
    policySources: policy?.sources ?? policyFiles.map((f) => f.path),
    ...(policyError ? { policyError } : {}),
  });
  if (options.publish !== false) {
    await host.publishChangeCheck(
      { repository: target.repository, number: target.number, headSha: changeRequest.headSha },
      check,
    );
  }
  return { check, changeRequest, results, policy };
}

async function readPolicyFiles(
  host: CodeHost,
  organization: string,
  repository: string,
  baseBranch: string,
): Promise<PolicyFile[]> {
  const { file } = host.policyLocation;
  const organizationRepository = host.policyLocation.organizationRepository(organization);
  const [organizationText, repositoryText] = await Promise.all([
    repository === organizationRepository
      ? Promise.resolve(null)
      : host.readFile(organizationRepository, file),
    host.readFile(repository, file, baseBranch),
  ]);
  const files: PolicyFile[] = [];
  if (organizationText !== null) {
    files.push({
      layer: "organization",
      repository: null,
      path: `${organizationRepository}:${file}`,
      content: organizationText,
    });
  }
  if (repositoryText !== null) {
    files.push({
      layer: "repository",
      repository,
      path: `${repository}:${file}@${baseBranch}`,
      content: repositoryText,
    });
  }
  return files;
}
