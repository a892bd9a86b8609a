import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { evaluate } from "../engine/index.js";
import { policySetFor } from "../pipeline/policies.js";
import { writeEvidencePackage } from "../reporters/files/index.js";
import { generateSampleOrganization } from "../sample/generate.js";
import { TOOL_VERSION } from "../version.js";
import { EXIT, printTotals, type Io } from "./main.js";

/**
 * The main job on the built-in sample organization: evaluate it against the shipped policy (plus the
 * sample's own organization policy), print the summary table and write the evidence package.
 */
export async function demoCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { out: { type: "string", default: "out/demo" } },
    strict: true,
  });
  const outDir = resolve(values.out ?? "out/demo");
  const sample = generateSampleOrganization();
  const report = evaluate(sample.snapshot, policySetFor(sample.snapshot), sample.at);

  io.stdout(`soc2-bot demo: sample organization "${sample.snapshot.organization?.login}", `);
  io.stdout(
    `${sample.snapshot.repositories.length} repositories, ${sample.snapshot.changeRequests.length} merged pull requests\n\n`,
  );
  printTotals(report, io);
  const found = sample.expected.filter((e) =>
    report.results.some(
      (r) => r.control === e.control && r.subject.id === e.subject && r.outcome === e.outcome,
    ),
  ).length;
  io.stdout(`planted violations found: ${found} of ${sample.expected.length}\n`);
  const files = await writeEvidencePackage(outDir, sample.snapshot, report, { toolVersion: TOOL_VERSION });
  io.stdout(
    `\nevidence package (${files.length} files): ${outDir}\nopen ${resolve(outDir, "report.html")}\n`,
  );
  return found === sample.expected.length ? EXIT.ok : EXIT.findings;
}
