/**
 * report.html opened in headless Chromium (Debian's `chromium`, driven by playwright-core): the page's
 * own script runs under its strict Content-Security-Policy without an error, filters, sorts and pages
 * the subjects, is interactive quickly, and prints to a bounded number of PDF pages.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluate } from "../../src/engine/evaluate.js";
import type { EvaluationReport } from "../../src/engine/types.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import { reportHtmlChunks, writeChunks } from "../../src/reporters/files/index.js";
import { REPORT_HTML_PAGE_SIZE } from "../../src/reporters/files/report-html-script.js";
import { generateSampleOrganization } from "../../src/sample/generate.js";
import { SCRIPT_TITLE, XSS_TITLE, auditReport, auditSnapshot } from "./files-report-fixture.js";
import { HOSTILE_REASON, reviewedSnapshot } from "./access-review-fixture.js";

const CHROMIUM = "/usr/bin/chromium";
const SEVERITY = ["fail", "unknown", "excepted", "pass", "not-applicable"];

let browser: Browser;
let dir: string;

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-background-networking"],
  });
  dir = await mkdtemp(join(tmpdir(), "soc2-report-browser-"));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function sampleAudit(repositories?: number, pullRequestsPerRepository?: number) {
  const { snapshot, at } = generateSampleOrganization({
    ...(repositories ? { repositories } : {}),
    ...(pullRequestsPerRepository ? { pullRequestsPerRepository } : {}),
  });
  return { snapshot, report: evaluate(snapshot, policySetFor(snapshot), at) };
}

interface Opened {
  page: Page;
  /** Console errors and warnings (CSP violations are reported there), uncaught errors, dialogs. */
  problems: string[];
  /** Milliseconds from navigation to the script marking the page ready. */
  interactiveMs: number;
}

async function open(name: string, chunks: Iterable<string>, ready = true): Promise<Opened> {
  const file = join(dir, name);
  await writeChunks(file, chunks);
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(String(error)));
  page.on("dialog", (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on("request", (request) => {
    if (!request.url().startsWith("file:")) problems.push(`request: ${request.url()}`);
  });
  const started = Date.now();
  await page.goto(pathToFileURL(file).href);
  if (ready) await page.waitForSelector("html[data-ready]", { timeout: 30_000 });
  return { page, problems, interactiveMs: Date.now() - started };
}

/** Subject ids of the rendered page of blocks, in order. */
function shownIds(page: Page): Promise<string[]> {
  return page.$$eval("#subjects article h3 code", (nodes) => nodes.map((node) => node.textContent ?? ""));
}

/** The subjects a filter should keep: those with a result matching outcome and control. */
function subjectsWith(report: EvaluationReport, outcome: string, control = ""): Set<string> {
  return new Set(
    report.results
      .filter((r) => (!outcome || r.outcome === outcome) && (!control || r.control === control))
      .map((r) => `${r.subject.kind} ${r.subject.id}`),
  );
}

function pdfPages(pdf: Buffer): number {
  return pdf.toString("latin1").match(/\/Type\s*\/Page[^s]/g)?.length ?? 0;
}

describe("report.html in headless Chromium", () => {
  const demo = sampleAudit();

  it("runs under its CSP with no console error, one block per subject with all its results", async () => {
    const { page, problems } = await open("demo.html", reportHtmlChunks(demo.snapshot, demo.report));
    const subjects = subjectsWith(demo.report, "");
    expect(await page.textContent("#filter-count")).toBe(
      `${subjects.size} of ${subjects.size} subjects (${demo.report.results.length} results)`,
    );
    // the first block holds every result of its subject, each with its evidence
    const first = (await shownIds(page))[0]!;
    const ofFirst = demo.report.results.filter((r) => r.subject.id === first);
    const rows = await page.$$eval("#subjects article:first-child tbody tr", (trs) =>
      trs.map((tr) => [tr.getAttribute("data-control"), tr.querySelectorAll("ul.evidence li").length]),
    );
    expect(rows).toEqual(ofFirst.map((r) => [r.control, r.evidence.length]));
    expect(await page.$$eval("#subjects article", (nodes) => nodes.length)).toBe(REPORT_HTML_PAGE_SIZE);
    // exceptions applied are listed
    const excepted = demo.report.results.filter((r) => r.exception);
    expect(excepted.length).toBeGreaterThan(0);
    expect(await page.textContent("#exceptions-body")).toContain(excepted[0]!.exception!.approvedBy);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("filters by outcome, control and text, and pages through what is kept", async () => {
    const { page, problems } = await open("filters.html", reportHtmlChunks(demo.snapshot, demo.report));
    const total = subjectsWith(demo.report, "").size;
    await page.selectOption("#filter-outcome", "fail");
    const failing = subjectsWith(demo.report, "fail");
    expect(await page.textContent("#filter-count")).toMatch(
      new RegExp(`^${failing.size} of ${total} subjects`),
    );
    const kinds = await page.$$eval("#subjects article", (nodes) =>
      nodes.map((node) => node.querySelector('tr[data-outcome="fail"]') !== null),
    );
    expect(kinds.length).toBe(Math.min(failing.size, REPORT_HTML_PAGE_SIZE));
    expect(kinds.every(Boolean)).toBe(true);

    await page.selectOption("#filter-control", "cc8.required-checks");
    const both = subjectsWith(demo.report, "fail", "cc8.required-checks");
    expect(both.size).toBeGreaterThan(0);
    expect(both.size).toBeLessThan(failing.size);
    expect(await page.textContent("#filter-count")).toMatch(new RegExp(`^${both.size} of ${total} subjects`));

    await page.selectOption("#filter-outcome", "");
    await page.selectOption("#filter-control", "");
    const target = demo.report.results.find((r) => r.subject.kind === "change-request")!.subject.id;
    await page.fill("#filter-text", target.toUpperCase());
    const ids = await shownIds(page);
    expect(ids).toContain(target);
    expect(ids.length).toBeLessThan(total);
    const texts = await page.$$eval("#subjects article", (nodes) =>
      nodes.map((node) => node.textContent ?? ""),
    );
    expect(texts.every((text) => text.toLowerCase().includes(target.toLowerCase()))).toBe(true);

    await page.fill("#filter-text", "");
    expect(await page.textContent("#page-info")).toBe(
      `page 1 of ${Math.ceil(total / REPORT_HTML_PAGE_SIZE)}`,
    );
    const firstPage = await shownIds(page);
    await page.click("#page-next");
    expect(await page.textContent("#page-info")).toBe(
      `page 2 of ${Math.ceil(total / REPORT_HTML_PAGE_SIZE)}`,
    );
    const secondPage = await shownIds(page);
    expect(secondPage.some((id) => firstPage.includes(id))).toBe(false);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("sorts by outcome, repository, time and control", async () => {
    const { page, problems } = await open("sort.html", reportHtmlChunks(demo.snapshot, demo.report));
    const worst = new Map<string, number>();
    for (const r of demo.report.results) {
      const s = SEVERITY.indexOf(r.outcome);
      worst.set(r.subject.id, Math.min(worst.get(r.subject.id) ?? 9, s));
    }
    // default: worst outcome first
    const byOutcome = await shownIds(page);
    const ranks = byOutcome.map((id) => worst.get(id)!);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(ranks[0]).toBe(0);

    await page.selectOption("#sort", "repository");
    const collator = new Intl.Collator("en", { numeric: true });
    const repoOf = new Map(
      demo.report.results.map((r) => [r.subject.id, r.subject.repository ?? r.subject.id]),
    );
    const byRepository = await shownIds(page);
    const repos = byRepository.map((id) => repoOf.get(id)!);
    expect(repos).toEqual([...repos].sort(collator.compare));
    expect(byRepository).not.toEqual(byOutcome);

    await page.selectOption("#sort", "time");
    const times = await page.$$eval("#subjects article h3", (nodes) =>
      nodes.map((node) => (node.querySelector(".when")?.textContent ?? "").replace(" · ", "")),
    );
    expect(times[0]).not.toBe("");
    expect(times).toEqual([...times].sort().reverse());

    await page.selectOption("#sort", "control");
    const byControl = await page.$$eval("#subjects article", (nodes) =>
      nodes.map(
        (node) =>
          node
            .querySelector('tr:not([data-outcome="pass"]):not([data-outcome="not-applicable"])')
            ?.getAttribute("data-control") ?? "",
      ),
    );
    const order = [...new Set(demo.report.results.map((r) => r.control))];
    const indexes = byControl.map((id) => order.indexOf(id));
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    expect(problems).toEqual([]);
    await page.close();
  });

  it("shows hostile titles as text and runs nothing from the data", async () => {
    const { page, problems } = await open("hostile.html", reportHtmlChunks(auditSnapshot(), auditReport()));
    const titles = await page.$$eval("#subjects .title", (nodes) => nodes.map((node) => node.textContent));
    expect(titles).toContain(XSS_TITLE);
    expect(titles).toContain(SCRIPT_TITLE);
    expect(await page.$$eval("img", (nodes) => nodes.length)).toBe(0);
    expect(await page.$$eval("script", (nodes) => nodes.length)).toBe(2);
    const hrefs = await page.$$eval("#subjects a", (nodes) => nodes.map((a) => a.getAttribute("href") ?? ""));
    expect(hrefs.length).toBeGreaterThan(0);
    expect(hrefs.every((href) => href.startsWith("https://github.com/"))).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("reports a CSP refusal as a problem: a script altered after rendering does not run", async () => {
    const html = [...reportHtmlChunks(auditSnapshot(), auditReport())].join("");
    const { page, problems } = await open(
      "tampered.html",
      [html.replace("<script>(function () {", "<script>(function () { window.tampered = true;")],
      false,
    );
    expect(await page.evaluate(() => "tampered" in globalThis)).toBe(false);
    expect(await page.$("html[data-ready]")).toBeNull();
    expect(problems.join("\n")).toMatch(/Content Security Policy/);
    await page.close();
  });

  it("shows each access review under the CSP, hostile reasons as text, and prints them", async () => {
    const snapshot = reviewedSnapshot();
    const report = evaluate(snapshot, policySetFor(snapshot), new Date(snapshot.collectedAt));
    const { page, problems } = await open("access-reviews.html", reportHtmlChunks(snapshot, report));
    const titles = await page.$$eval("#access-reviews article h3", (nodes) =>
      nodes.map((n) => n.textContent),
    );
    expect(titles).toEqual(["Access review 2026-Q4: organization-admins", "Access review 2026-Q4: platform"]);
    const rows = await page.$$eval("#access-reviews table.revocations tbody tr", (trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
    );
    expect(rows.map((cells) => [cells[0], cells[5]!.split(":")[0], cells[6]])).toEqual([
      ["collaborator:bob:write", "still present", ""],
      ["collaborator:mallory:write", "removed", "2026-11-01T00:00:00Z"],
    ]);
    // the hostile reason is the cell's text, its override shown; it added no element and ran nothing
    expect(rows[1]![3]).toBe(HOSTILE_REASON.replace("\u202E", "‹U+202E›"));
    expect(await page.$$eval("script", (nodes) => nodes.length)).toBe(2);
    await page.emulateMedia({ media: "print" });
    expect(await page.isVisible("#access-reviews")).toBe(true);
    expect(await page.isVisible("#access-reviews table.revocations")).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("prints the demo organization in a few pages: summary first, no filters, deviations listed", async () => {
    const { page, problems } = await open("print.html", reportHtmlChunks(demo.snapshot, demo.report));
    await page.emulateMedia({ media: "print" });
    expect(await page.isVisible(".filters")).toBe(false);
    expect(await page.isVisible("#subjects")).toBe(false);
    expect(await page.isVisible("#print-deviations")).toBe(true);
    const deviations = demo.report.results.filter((r) => SEVERITY.indexOf(r.outcome) < 3).length;
    expect(await page.$$eval("#print-body tr", (trs) => trs.length)).toBe(deviations);
    const summaryTop = await page.$eval("#summary", (node) => node.getBoundingClientRect().top);
    const listTop = await page.$eval("#print-deviations", (node) => node.getBoundingClientRect().top);
    expect(summaryTop).toBeLessThan(listTop);
    expect(await page.textContent("#summary")).toMatch(/360 changes, \d+ deviations \(\d+\.\d%\)/);
    const pages = pdfPages(await page.pdf({ format: "A4" }));
    // the same page printed one row per result took 227 pages
    expect(pages).toBeGreaterThan(1);
    expect(pages).toBeLessThanOrEqual(12);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("is interactive in under 3 s with 6,000 changes and prints a bounded number of pages", async () => {
    const large = sampleAudit(30, 200);
    expect(large.snapshot.changeRequests.length).toBe(6000);
    const { page, problems, interactiveMs } = await open(
      "large.html",
      reportHtmlChunks(large.snapshot, large.report),
    );
    expect(interactiveMs).toBeLessThan(3000);
    await page.selectOption("#sort", "repository");
    await page.fill("#filter-text", "required");
    expect(await page.textContent("#filter-count")).toMatch(/^\d+ of \d+ subjects/);
    const pages = pdfPages(await page.pdf({ format: "A4" }));
    // the print list stops at its cap and says where the rest is
    expect(await page.textContent("#print-note")).toMatch(/first 400 of \d+/);
    expect(pages).toBeLessThanOrEqual(30);
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);
});
