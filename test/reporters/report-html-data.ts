/** Reads report.html's data block back: the rows its script renders, as the page's JSON.parse does. */
export interface ReportHtmlDataRow {
  outcome: string;
  control: string;
  kind: string;
  id: string;
  url: string | null;
  title: string | null;
  reason: string;
  exception: [string, string, string, string] | null;
  evidence: [string, string, string | null, string | null][];
  repository: string | null;
  remediation: string | null;
}

const OPEN = '<script type="application/json" id="results-data">';

/** The raw text between the data block's tags. */
export function reportHtmlDataText(html: string): string {
  const start = html.indexOf(OPEN);
  if (start === -1) throw new Error("report.html has no results-data block");
  const end = html.indexOf("</script>", start);
  return html.slice(start + OPEN.length, end);
}

export function reportHtmlData(html: string): ReportHtmlDataRow[] {
  const text = reportHtmlDataText(html).trim();
  if (!text) return [];
  return text.split("\n").map((line) => {
    const r = JSON.parse(line) as unknown[];
    return {
      outcome: r[0],
      control: r[1],
      kind: r[2],
      id: r[3],
      url: r[4],
      title: r[5],
      reason: r[6],
      exception: r[7],
      evidence: r[8],
      repository: r[9],
      remediation: r[10],
    } as ReportHtmlDataRow;
  });
}

/** report.html without its data block: what the browser parses as HTML. */
export function reportHtmlMarkup(html: string): string {
  return html.replace(reportHtmlDataText(html), "");
}
