import { writeFile } from 'node:fs/promises';
import type { AuditRunner } from '../audit/runner.js';
import type { ReportFormat } from '../audit/run-report.js';
import { openRuntime } from './runtime.js';

export interface ReportCommandOptions {
  storage?: string;
  /** A run id, or `latest`. */
  run: string;
  out?: string;
  csv?: boolean;
}

/**
 * Writes a run's stored report (issue 13), the page or with `csv` the findings, to `out` (stdout
 * without it). Fails when the run is unknown, still running, or has no report.
 */
export async function writeRunReport(audit: AuditRunner, runId: string, format: ReportFormat, out: string | undefined): Promise<void> {
  const answer = runId === 'latest' ? await audit.latestReport(format) : await audit.report(runId, format);
  if (answer.kind === 'running') throw new Error(`audit run ${answer.run.runId} is still running: its report is written when it finishes`);
  if (out === undefined) process.stdout.write(answer.body);
  else {
    await writeFile(out, answer.body, 'utf8');
    process.stderr.write(`steward: wrote the ${format === 'csv' ? 'findings (CSV)' : 'report'} of audit run ${answer.run.runId} to ${out}\n`);
  }
}

/** `steward report --run ID|latest [--out FILE] [--csv]`: a run's report from the storage the settings (or --storage) name. */
export async function runReportCommand(options: ReportCommandOptions): Promise<void> {
  const runtime = await openRuntime({ storage: options.storage });
  try {
    await writeRunReport(runtime.audit, options.run, options.csv ? 'csv' : 'html', options.out);
  } finally {
    await runtime.close();
  }
}
