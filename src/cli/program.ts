/**
 * The command line's grammar, in commander: every command, subcommand and option is declared once
 * here, so `--help` on each of them, the usage text and the README's reference (scripts/docs.ts)
 * all come from the same declarations and cannot drift from what the parser accepts.
 */
import { Command, type CommanderError, Option } from "commander";
import { TOOL_VERSION } from "../version.js";
import { checkOutputFolder } from "./output-path.js";
import type { Io } from "./main.js";

/** Exit codes: 0 pass, 1 findings, 2 bad input, 3 code host unreachable or refused. */
export const EXIT = { ok: 0, findings: 1, usage: 2, unreachable: 3 } as const;

/** Help wraps at 80 columns whatever the terminal, so it reads the same in a pipe and in the README. */
const HELP_WIDTH = 80;

const EXIT_CODES_HELP = `Exit codes:
  0  every control passes (or is excepted or not applicable)
  1  a control fails or is unknown (findings)
  2  bad input: a broken policy or snapshot, a wrong option, an unwritable path
  3  the code host is unreachable or refused the request`;

const ENVIRONMENT_HELP = `Environment:
  GITHUB_TOKEN, or APP_ID with PRIVATE_KEY / PRIVATE_KEY_PATH (INSTALLATION_ID)
  GITHUB_API_URL   GitHub Enterprise Server, e.g. https://ghe.example.com/api/v3
  GITLAB_TOKEN, GITLAB_URL
  DATABASE_URL     the ledger's PostgreSQL; otherwise the embedded one in
                   --ledger DIR, SOC2_LEDGER_DIR or .soc2-bot/ledger
  .env in the working directory is read; the environment wins.`;

export interface EvaluateOptions {
  snapshot?: string;
  policy?: string[];
  at?: string;
  format?: string;
  out?: string;
}

export interface PolicyCheckOptions {
  org?: string;
  repo?: string;
}

export interface AuditOptions {
  org?: string;
  gitlabGroup?: string;
  since?: string;
  until?: string;
  policy?: string[];
  out?: string;
  skipFindings?: boolean;
  dryRun?: boolean;
  concurrency: string;
  ledger?: string;
  skipLedger?: boolean;
}

export interface DoctorOptions {
  org?: string;
  gitlabGroup?: string;
  policy?: string[];
}

export interface DemoOptions {
  out: string;
  gitlab?: boolean;
  ledger?: string;
}

export interface VerifyOptions {
  ledger?: string;
  skipFiles?: boolean;
}

export interface ExportOptions {
  since?: string;
  until?: string;
  out?: string;
  force?: boolean;
  packages?: boolean;
  ledger?: string;
  policy?: string[];
}

export interface CoverageOptions {
  since?: string;
  until?: string;
  ledger?: string;
  policy?: string[];
  format: string;
  out?: string;
}

export interface AccessReviewOpenOptions {
  org?: string;
  gitlabGroup?: string;
  policy?: string[];
  dryRun?: boolean;
}

export interface AccessReviewCheckOptions {
  opened?: string;
}

export interface AccessReviewApplyOptions {
  org?: string;
  gitlabGroup?: string;
  policy?: string[];
  dryRun?: boolean;
}

/** What each command does once its arguments are parsed: the exit code. */
export interface Handlers {
  evaluate(options: EvaluateOptions): Promise<number>;
  policyCheck(files: string[], options: PolicyCheckOptions): Promise<number>;
  audit(options: AuditOptions): Promise<number>;
  demo(options: DemoOptions): Promise<number>;
  doctor(options: DoctorOptions): Promise<number>;
  ledgerVerify(options: VerifyOptions): Promise<number>;
  export(options: ExportOptions): Promise<number>;
  coverage(options: CoverageOptions): Promise<number>;
  /** The access-review commands; absent: src/cli/access-review.ts's, loaded when run. */
  accessReviewOpen?(options: AccessReviewOpenOptions): Promise<number>;
  accessReviewCheck?(file: string, options: AccessReviewCheckOptions): Promise<number>;
  accessReviewApply?(options: AccessReviewApplyOptions): Promise<number>;
}

function repeated(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const policyOption = () =>
  new Option("--policy <file>", "a policy layer over the shipped default (repeatable)").argParser(repeated);
const ledgerOption = () => new Option("--ledger <dir>", "the embedded ledger's folder");
const formatOption = () =>
  new Option("--format <format>", "what is printed").choices(["md", "json", "csv"]).default("md");
const evaluateFormatOption = () =>
  new Option("--format <format>", "what is printed (default: table on a terminal, else md)").choices([
    "table",
    "md",
    "json",
    "csv",
  ]);
const sinceOption = () => new Option("--since <date>", "start of the period (YYYY-MM-DD)");
const untilOption = () => new Option("--until <date>", "end of the period (YYYY-MM-DD)");

/**
 * The program, writing through `io` and never exiting the process: commander's exits are turned
 * into thrown CommanderErrors (exitOverride) that main() maps to exit codes. `setExit` receives the
 * code an action returns.
 */
export function buildProgram(io: Io, handlers: Handlers, setExit: (code: number) => void): Command {
  const program = new Command("soc2-bot");
  const configure = (command: Command): Command =>
    command
      .exitOverride()
      .configureOutput({
        writeOut: (text) => io.stdout(text),
        writeErr: (text) => io.stderr(text),
        outputError: (text, write) => write(text.replace(/^error: /, "soc2-bot: ")),
        getOutHelpWidth: () => HELP_WIDTH,
        getErrHelpWidth: () => HELP_WIDTH,
      })
      .configureHelp({ helpWidth: HELP_WIDTH, subcommandTerm: (cmd) => usageTerm(cmd) })
      .showHelpAfterError("(add --help for usage)");
  const add = (parent: Command, name: string): Command => configure(parent.command(name));
  const done = (code: number) => setExit(code);

  configure(program)
    .description("SOC 2 change-management and access evidence from GitHub and GitLab")
    .version(TOOL_VERSION, "-V, --version", "the tool's version")
    .helpOption("-h, --help", "this help")
    .addHelpText("after", () => `\n${synopsis(program)}\n\n${EXIT_CODES_HELP}\n\n${ENVIRONMENT_HELP}\n`);

  add(program, "evaluate")
    .description("evaluate saved facts (a snapshot.json) again, without the code host")
    .usage("--snapshot FILE [options]")
    .addOption(new Option("--snapshot <file>", "the snapshot.json of an audit"))
    .addOption(policyOption())
    .addOption(new Option("--at <date>", "judge as of this time (default: the period's end)"))
    .addOption(evaluateFormatOption())
    .addOption(new Option("--out <dir>", "also write the evidence package there"))
    .action(async (options: EvaluateOptions) => done(await handlers.evaluate(options)));

  const policy = add(program, "policy").description("validate policy files (policy check FILE...)");
  add(policy, "check")
    .description(
      "validate policy files, each on its own; with --org or --repo, also the stack " +
        "default < org < repo, as the app layers it (a repository weakening a locked control is an error)",
    )
    .usage("[FILE...] [--org FILE] [--repo FILE]")
    .argument("[file...]", "policy files checked one by one")
    .addOption(new Option("--org <file>", "the organization's layer (its .github/soc2.yml)"))
    .addOption(new Option("--repo <file>", "a repository's layer (its .github/soc2.yml)"))
    .action(async (files: string[], options: PolicyCheckOptions) =>
      done(await handlers.policyCheck(files, options)),
    );

  add(program, "audit")
    .description("audit an organization (GitHub) or a group (GitLab) for a period")
    .usage("--org NAME|--gitlab-group PATH --since DATE --until DATE")
    .addOption(new Option("--org <name>", "the GitHub organization"))
    .addOption(new Option("--gitlab-group <path>", "the GitLab group"))
    .addOption(sinceOption())
    .addOption(untilOption())
    .addOption(policyOption())
    .addOption(new Option("--out <dir>", "the evidence package's folder (default: out/audit-NAME)"))
    .addOption(new Option("--skip-findings", "do not open, update or close finding issues"))
    .addOption(
      new Option(
        "--dry-run",
        "print the finding issues it would write, write none; record no ledger run",
      ).conflicts(["skipFindings"]),
    )
    .addOption(new Option("--concurrency <n>", "repositories collected at once (1 to 32)").default("4"))
    .addOption(ledgerOption())
    .addOption(new Option("--skip-ledger", "record nothing in the ledger").conflicts("ledger"))
    .action(async (options: AuditOptions) => done(await handlers.audit(options)));

  add(program, "doctor")
    .description("check the code host answers, the credentials and the findings repository")
    .usage("--org NAME|--gitlab-group PATH [options]")
    .addOption(new Option("--org <name>", "the GitHub organization"))
    .addOption(new Option("--gitlab-group <path>", "the GitLab group"))
    .addOption(policyOption())
    .action(async (options: DoctorOptions) => done(await handlers.doctor(options)));

  add(program, "demo")
    .description("audit the built-in sample organization on a simulated GitHub")
    .addOption(new Option("--out <dir>", "the evidence package's folder").default("out/demo"))
    .addOption(new Option("--gitlab", "a simulated GitLab group instead"))
    .addOption(new Option("--ledger <dir>", "the embedded ledger's folder (default: OUT/ledger)"))
    .action(async (options: DemoOptions) => done(await handlers.demo(options)));

  const ledger = add(program, "ledger").description("check the ledger's hash chains (ledger verify)");
  add(ledger, "verify")
    .description("check every hash chain of the ledger and say where one breaks")
    .addOption(ledgerOption())
    .addOption(new Option("--skip-files", "do not re-hash the stored package files"))
    .action(async (options: VerifyOptions) => done(await handlers.ledgerVerify(options)));

  add(program, "export")
    .description("the auditor's package for a period, from the ledger alone")
    .usage("--since DATE --until DATE [options]")
    .addOption(sinceOption())
    .addOption(untilOption())
    .addOption(new Option("--out <dir>", "the package's folder (default: out/export-SINCE_UNTIL)"))
    .addOption(new Option("--packages", "also write each audit run's package"))
    .addOption(new Option("--force", "export from broken chains, listing the breaks"))
    .addOption(ledgerOption())
    .addOption(policyOption())
    .action(async (options: ExportOptions) => done(await handlers.export(options)));

  add(program, "coverage")
    .description("which days each production branch was observed (exit 1 on gaps)")
    .usage("--since DATE --until DATE [options]")
    .addOption(sinceOption())
    .addOption(untilOption())
    .addOption(ledgerOption())
    .addOption(policyOption())
    .addOption(formatOption())
    .addOption(new Option("--out <dir>", "also write coverage.md, .csv and .json there"))
    .action(async (options: CoverageOptions) => done(await handlers.coverage(options)));

  const review = add(program, "access-review").description(
    "the periodic access review as pull requests (access-review open|check|apply)",
  );
  const accessReview = () => import("./access-review.js");
  add(review, "open")
    .description(
      "open this cycle's access review: one pull request per owner in the findings repository, " +
        "listing every grant (each once: an opened review is left as it is)",
    )
    .usage("--org NAME|--gitlab-group PATH [--dry-run]")
    .addOption(new Option("--org <name>", "the GitHub organization"))
    .addOption(new Option("--gitlab-group <path>", "the GitLab group"))
    .addOption(policyOption())
    .addOption(new Option("--dry-run", "print the reviews it would open, open none"))
    .action(async (options: AccessReviewOpenOptions) =>
      done(
        await (handlers.accessReviewOpen?.(options) ??
          accessReview().then((m) => m.accessReviewOpenCommand(options, io))),
      ),
    );
  add(review, "check")
    .description("check a review file; problems as file:line:column, exit 2")
    .usage("FILE [--opened FILE]")
    .argument("<file>", "the review file")
    .addOption(
      new Option("--opened <file>", "the file as opened: decisions may only name its grants, unchanged"),
    )
    .action(async (file: string, options: AccessReviewCheckOptions) =>
      done(
        await (handlers.accessReviewCheck?.(file, options) ??
          accessReview().then((m) => m.accessReviewCheckCommand(file, options, io))),
      ),
    );
  add(review, "apply")
    .description(
      "remove the grants signed-off reviews revoked that are still present " +
        "(only with apply: true under cc6.revocations-applied)",
    )
    .usage("--org NAME|--gitlab-group PATH [--dry-run]")
    .addOption(new Option("--org <name>", "the GitHub organization"))
    .addOption(new Option("--gitlab-group <path>", "the GitLab group"))
    .addOption(policyOption())
    .addOption(new Option("--dry-run", "print the removals it would make, make none"))
    .action(async (options: AccessReviewApplyOptions) =>
      done(
        await (handlers.accessReviewApply?.(options) ??
          accessReview().then((m) => m.accessReviewApplyCommand(options, io))),
      ),
    );

  // Every command that writes a folder takes it as --out: a path that cannot be written fails here,
  // before any work, in one line (and never reaches a recursive mkdir, which hangs under /proc).
  program.hook("preAction", async (_program, action) => {
    const out: unknown = action.opts()["out"];
    if (typeof out === "string" && action.getOptionValueSource("out") === "cli") await checkOutputFolder(out);
  });
  return program;
}

/** A command as a parent's help lists it: its name, and a group's subcommands (policy check). */
function usageTerm(command: Command): string {
  const subs = command.commands.filter((sub) => sub.name() !== "help").map((sub) => sub.name());
  return subs.length > 0 ? `${command.name()} ${subs.join("|")}` : command.name();
}

/** One line per runnable command with what it needs, for the top-level help. */
function synopsis(program: Command): string {
  const lines: string[] = [];
  const visit = (command: Command, path: string) => {
    const subs = command.commands.filter((sub) => sub.name() !== "help");
    if (subs.length === 0) lines.push(`  ${path} ${command.usage()}`);
    for (const sub of subs) visit(sub, `${path} ${sub.name()}`);
  };
  for (const command of program.commands) {
    if (command.name() !== "help") visit(command, `${program.name()} ${command.name()}`);
  }
  return `Usage of each command:\n${lines.join("\n")}`;
}

/**
 * The exit code of a commander exit: help and version asked for are 0; help shown because no
 * command was given, an unknown command or option, a missing or invalid value are bad input (2).
 */
export function exitCodeOfCommander(error: CommanderError): number {
  return error.code === "commander.helpDisplayed" || error.code === "commander.version"
    ? EXIT.ok
    : EXIT.usage;
}

/** Every command, root first, with the words that run it ("soc2-bot policy check"). */
export function allCommands(program: Command): { path: string; command: Command }[] {
  const out: { path: string; command: Command }[] = [];
  const visit = (command: Command, path: string) => {
    out.push({ path, command });
    for (const sub of command.commands) {
      if (sub.name() !== "help") visit(sub, `${path} ${sub.name()}`);
    }
  };
  visit(program, program.name());
  return out;
}
