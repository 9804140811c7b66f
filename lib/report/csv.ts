import { stringify } from 'csv-stringify/sync';
import type { RunReport } from './model.js';

/**
 * The findings of a run's report as CSV (issue 13), one row per finding: the open ones, the
 * suppressed ones (with reason and expiry), then those the run resolved. RFC 4180 quoting by
 * csv-stringify; a cell starting with `=`, `+`, `-`, `@`, tab or carriage return is prefixed with
 * a quote (`escape_formulas`), so a title or a display name from the tenant cannot become a
 * spreadsheet formula (OWASP, "CSV Injection"). A byte-order mark tells Excel it is UTF-8.
 */

export const FINDINGS_CSV_COLUMNS = [
  'targetId',
  'targetName',
  'checkId',
  'subjectId',
  'severity',
  'previousSeverity',
  'status',
  'state',
  'suppressed',
  'suppressionReason',
  'suppressionExpiresAt',
  'title',
  'remediation',
  'factIds',
  'details',
  'firstSeenAt',
  'openedAt',
  'resolvedAt',
  'documentation',
] as const;

export function renderFindingsCsv(report: RunReport): string {
  const rows = report.all.map((f) => ({
    targetId: f.targetId,
    targetName: f.targetName,
    checkId: f.checkId,
    subjectId: f.subjectId,
    severity: f.severity,
    previousSeverity: f.previousSeverity ?? '',
    status: f.status,
    state: f.state,
    suppressed: f.suppression ? 'true' : 'false',
    suppressionReason: f.suppression?.reason ?? '',
    suppressionExpiresAt: f.suppression?.expiresAt ?? '',
    title: f.title,
    remediation: f.remediation,
    factIds: f.factIds.join(' '),
    details: JSON.stringify(f.details),
    firstSeenAt: f.firstSeenAt,
    openedAt: f.openedAt,
    resolvedAt: f.resolvedAt ?? '',
    documentation: f.docsUrl,
  }));
  return stringify(rows, { header: true, columns: [...FINDINGS_CSV_COLUMNS], bom: true, escape_formulas: true, record_delimiter: 'windows' });
}
