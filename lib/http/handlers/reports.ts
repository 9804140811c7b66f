import { z } from 'zod';
import type { AuditRunner, RunReportAnswer } from '../../audit/runner.js';
import type { ReportFormat } from '../../audit/run-report.js';
import { REPORT_CONTENT_SECURITY_POLICY } from '../../report/html.js';
import type { ApiResponse } from '../api.js';
import { defineRoute, json } from '../pipeline.js';

/**
 * A run's nightly report over HTTP (issue 13): the self-contained HTML page and the findings as
 * CSV, as stored when the run finished. The paths are `reportPath` / `findingsCsvPath` of
 * lib/report/paths.ts.
 */

const RUN_ID = z.string().regex(/^[0-9A-Za-z-]{1,64}$/, 'expected a run id');

const CONTENT: Record<ReportFormat, Record<string, string>> = {
  // The page loads nothing (its own CSP says so too); the header keeps a browser to that.
  html: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': REPORT_CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff' },
  csv: { 'content-type': 'text/csv; charset=utf-8', 'x-content-type-options': 'nosniff' },
};

function answerOf(answer: RunReportAnswer): ApiResponse {
  // Still running: the pattern Power Automate polls, as GET /audits/{runId} answers it.
  if (answer.kind === 'running') return json(202, { runId: answer.run.runId, status: answer.run.status }, { 'retry-after': '10' });
  const disposition: Record<string, string> = answer.format === 'csv' ? { 'content-disposition': `attachment; filename="steward-findings-${answer.run.runId}.csv"` } : {};
  return { status: 200, headers: { ...CONTENT[answer.format], ...disposition }, text: answer.body };
}

function reportRoute(name: string, route: string, format: ReportFormat, summary: string, read: (audit: AuditRunner, runId: string | undefined) => Promise<RunReportAnswer>) {
  const withRunId = route.includes('{runId}');
  return defineRoute({
    name,
    summary,
    methods: ['GET'],
    route,
    role: 'Steward.Read',
    mutation: false,
    params: withRunId ? z.object({ runId: RUN_ID }) : undefined,
    async run({ audit, params }) {
      return answerOf(await read(audit, (params as { runId?: string } | undefined)?.runId));
    },
  });
}

export const reportRoutes = [
  reportRoute('audits-report', 'audits/{runId}/report', 'html', 'Get the report page of an audit run', (audit, runId) => audit.report(runId!, 'html')),
  reportRoute('audits-latest-report', 'audits/latest/report', 'html', 'Get the report page of the latest audit run', (audit) => audit.latestReport('html')),
  reportRoute('audits-findings-csv', 'audits/{runId}/findings.csv', 'csv', 'Get the findings of an audit run as CSV', (audit, runId) => audit.report(runId!, 'csv')),
  reportRoute('audits-latest-findings-csv', 'audits/latest/findings.csv', 'csv', 'Get the findings of the latest audit run as CSV', (audit) => audit.latestReport('csv')),
];
