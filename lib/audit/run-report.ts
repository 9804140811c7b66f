import type { AuditRun, StoredFinding } from '../domain/finding.js';
import { isSuppressed } from '../domain/suppression.js';
import type { AuditStore } from '../gateways/storage/audit-store.js';
import type { ReportFileName, ReportFiles } from '../gateways/storage/report-files.js';
import { renderFindingsCsv } from '../report/csv.js';
import { renderReportHtml } from '../report/html.js';
import { TREND_RUNS, buildRunReport, type ReportFindingInput, type TrendPoint } from '../report/model.js';

/**
 * The nightly report's use case (issue 13): when a run finishes, its report page and its findings
 * as CSV are rendered (lib/report, pure) and kept in Blob Storage beside the run, so the report of
 * a run shows that run as it was, whatever later runs changed. Read back by the API and the CLI.
 */

export type ReportFormat = 'html' | 'csv';

const FILE_OF: Record<ReportFormat, ReportFileName> = { html: 'report.html', csv: 'findings.csv' };

export interface RunReportDependencies {
  store: Pick<AuditStore, 'listRecentRuns' | 'listSuppressions'>;
  files: ReportFiles;
  /** STEWARD_DOCS_BASE_URL: where the checks' pages (docs/checks/<checkId>.md) are linked to. */
  docsBaseUrl: string;
}

/** What a finished run's report holds: the run closed, its open findings and what it resolved. */
export interface FinishedRun {
  run: AuditRun;
  findings: readonly Omit<ReportFindingInput, 'suppressed'>[];
  resolved: readonly StoredFinding[];
}

export class RunReports {
  constructor(private readonly deps: RunReportDependencies) {}

  /** Renders the report of a finished run and stores its files (the page, the CSV). */
  async publish(finished: FinishedRun, now: Date): Promise<void> {
    const { store, files, docsBaseUrl } = this.deps;
    const [recent, suppressions] = await Promise.all([store.listRecentRuns(TREND_RUNS), store.listSuppressions({ activeAt: now })]);
    const report = buildRunReport({
      ...finished,
      // SPEC §2: suppressed at the run's end, as its alert decided.
      findings: finished.findings.map((f) => ({ ...f, suppressed: isSuppressed(f, suppressions, now) })),
      suppressions,
      history: recent.filter((r) => r.summary !== undefined).map(trendPointOf),
      generatedAt: now,
      docsBaseUrl,
    });
    await Promise.all([files.put(finished.run.runId, FILE_OF.html, renderReportHtml(report)), files.put(finished.run.runId, FILE_OF.csv, renderFindingsCsv(report))]);
  }

  /** A stored report file; null when the run has none. */
  read(runId: string, format: ReportFormat): Promise<string | null> {
    return this.deps.files.get(runId, FILE_OF[format]);
  }
}

function trendPointOf(run: AuditRun): TrendPoint {
  const summary = run.summary!;
  return { runId: run.runId, startedAt: run.startedAt, status: run.status, critical: summary.critical, warning: summary.warning, info: summary.info };
}
