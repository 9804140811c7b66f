import { z } from 'zod';
import type { AuditRunner, RunReportAnswer } from '../../audit/runner.js';
import type { ReportFormat } from '../../audit/run-report.js';
import { REPORT_CONTENT_SECURITY_POLICY } from '../../report/html.js';
import { findingsCsvPath, reportPath } from '../../report/paths.js';
import type { ApiResponse } from '../api.js';
import { defineRoute, json } from '../pipeline.js';

/**
 * A run's nightly report over HTTP (issue 13): the self-contained HTML page and the findings as
 * CSV, as stored when the run finished. The paths are `reportPath` / `findingsCsvPath` of
 * lib/report/paths.ts.
 */

const RUN_ID = z
  .string()
  .regex(/^[0-9A-Za-z-]{1,64}$/, 'expected a run id')
  .meta({ title: 'Run ID', description: 'The id of the audit run.' });

const CONTENT: Record<ReportFormat, Record<string, string>> = {
  // The page loads nothing (its own CSP says so too); the header keeps a browser to that.
  html: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': REPORT_CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff' },
  csv: { 'content-type': 'text/csv; charset=utf-8', 'x-content-type-options': 'nosniff' },
};

function answerOf(answer: RunReportAnswer, format: ReportFormat, link: (path: string) => string): ApiResponse {
  // Still running: the pattern Power Automate polls, as GET /audits/{runId} answers it.
  if (answer.kind === 'running') {
    const path = format === 'html' ? reportPath(answer.run.runId) : findingsCsvPath(answer.run.runId);
    return json(202, { runId: answer.run.runId, status: answer.run.status }, { 'retry-after': '10', location: link(path) });
  }
  const disposition: Record<string, string> = answer.format === 'csv' ? { 'content-disposition': `attachment; filename="steward-findings-${answer.run.runId}.csv"` } : {};
  return { status: 200, headers: { ...CONTENT[answer.format], ...disposition }, text: answer.body };
}

function reportRoute(name: string, route: string, format: ReportFormat, [operationId, summary, description]: [string, string, string], read: (audit: AuditRunner, runId: string | undefined) => Promise<RunReportAnswer>) {
  const withRunId = route.includes('{runId}');
  return defineRoute({
    name,
    // A page or a file for a browser (a link in the alert, the Teams card): not a connector action.
    doc: { operationId, summary, description, browserOnly: CONTENT[format]['content-type']!.split(';')[0]!, polls: true },
    methods: ['GET'],
    route,
    role: 'Steward.Read',
    mutation: false,
    params: withRunId ? z.object({ runId: RUN_ID }) : undefined,
    async run({ audit, params, link }) {
      return answerOf(await read(audit, (params as { runId?: string } | undefined)?.runId), format, link);
    },
  });
}

export const reportRoutes = [
  reportRoute(
    'audits-report',
    'audits/{runId}/report',
    'html',
    ['GetAuditReport', 'Get the report page of an audit run', 'Returns the self-contained HTML report page of a finished audit run.'],
    (audit, runId) => audit.report(runId!, 'html'),
  ),
  reportRoute(
    'audits-latest-report',
    'audits/latest/report',
    'html',
    ['GetLatestAuditReport', 'Get the report page of the latest audit run', 'Returns the self-contained HTML report page of the newest audit run.'],
    (audit) => audit.latestReport('html'),
  ),
  reportRoute(
    'audits-findings-csv',
    'audits/{runId}/findings.csv',
    'csv',
    ['GetAuditFindingsCsv', 'Get the findings of an audit run as CSV', 'Returns the findings of a finished audit run as a CSV file.'],
    (audit, runId) => audit.report(runId!, 'csv'),
  ),
  reportRoute(
    'audits-latest-findings-csv',
    'audits/latest/findings.csv',
    'csv',
    ['GetLatestAuditFindingsCsv', 'Get the findings of the latest audit run as CSV', 'Returns the findings of the newest audit run as a CSV file.'],
    (audit) => audit.latestReport('csv'),
  ),
];
