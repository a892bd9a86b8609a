/**
 * What an audit needs from the code host, checked before anything is collected: that the host
 * answers, whose credentials these are and what they may read, and that the findings repository
 * can be read (the audit writes its issues there at the end: a missing repository found after an
 * hour of collection wastes the hour). `soc2-bot doctor` prints each check; `audit` runs the
 * findings check up front.
 */
import { CONTROLS } from "../controls/index.js";
import { PolicyError, ProviderError, unreachableErrorIn, UsageError } from "../errors.js";
import { loadPolicy } from "../policy/index.js";
import { hostFromEnvironment } from "../providers/index.js";
import type { CodeHost } from "../providers/types.js";
import { EXIT, readPolicyFiles, reportError, type Io } from "./main.js";
import type { DoctorOptions } from "./program.js";
import { apiUrlOf, checkReachable } from "./reachable.js";

/** The organization's policy (its .github file, then the given files), for the findings settings. */
async function organizationPolicy(
  host: CodeHost,
  organization: string,
  given: { file: string; text: string }[],
) {
  const repository = host.policyLocation.organizationRepository(organization);
  const text = await host.readFile(repository, host.policyLocation.file);
  const files = [
    ...(text === null ? [] : [{ file: `${repository}:${host.policyLocation.file}`, text }]),
    ...given,
  ];
  return loadPolicy(files, CONTROLS);
}

/**
 * The findings repository the audit would write to, read now: its open and closed finding issues
 * are listed (the first thing the sync does). Throws a UsageError naming the repository and what
 * to do when it cannot be read.
 */
export async function checkFindingsRepository(
  host: CodeHost,
  organization: string,
  given: { file: string; text: string }[],
): Promise<{ repository: string; issues: number }> {
  const policy = await organizationPolicy(host, organization, given);
  const repository = `${organization}/${policy.findings.repository}`;
  const label = policy.findings.labels[0] ?? "soc2";
  try {
    const issues = await host.issues(repository).listByLabel(label);
    return { repository, issues: issues.length };
  } catch (error) {
    // A host gone away says nothing about the repository: exit 3, not "create it".
    if (!(error instanceof ProviderError) || unreachableErrorIn(error)) throw error;
    throw new UsageError(
      `the findings repository ${repository} cannot be read (${error.message}): create it, name another ` +
        "with findings.repository in the organization's policy, or run the audit with --skip-findings",
    );
  }
}

/** soc2-bot doctor: each check on its own line, ok or what is wrong; exit 0 only when all pass. */
export async function doctorCommand(options: DoctorOptions, io: Io): Promise<number> {
  const organization = options.org ?? options.gitlabGroup;
  if (!organization || (options.org && options.gitlabGroup))
    throw new UsageError("doctor needs exactly one of --org NAME (GitHub) or --gitlab-group PATH (GitLab)");
  const kind = options.org ? "github" : "gitlab";
  await checkReachable(kind);
  io.stdout(`ok    ${kind} answers at ${apiUrlOf(kind)}\n`);
  const { host } = await hostFromEnvironment(kind, organization);
  let failed = false;
  try {
    const credentials = await host.describeCredentials();
    const permissions = Object.entries(credentials.permissions)
      .map(([name, level]) => `${name}:${level}`)
      .join(", ");
    io.stdout(`ok    credentials of ${credentials.actor}: ${permissions || "no permissions listed"}\n`);
  } catch (error) {
    if (unreachableErrorIn(error)) throw error;
    failed = true;
    io.stdout(`FAIL  credentials: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  try {
    const findings = await checkFindingsRepository(
      host,
      organization,
      await readPolicyFiles(options.policy ?? []),
    );
    io.stdout(`ok    findings repository ${findings.repository}: ${findings.issues} finding issues\n`);
  } catch (error) {
    const answered =
      error instanceof UsageError || error instanceof ProviderError || error instanceof PolicyError;
    if (!answered || unreachableErrorIn(error)) throw error;
    failed = true;
    io.stdout("FAIL  findings repository:\n");
    reportError(error, io);
  }
  return failed ? EXIT.usage : EXIT.ok;
}
