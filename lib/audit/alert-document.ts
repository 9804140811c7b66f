import { SEVERITY_RANK, type Severity, type StoredFinding } from '../domain/finding.js';
import { reclaimableMonthlyTotals, type Money } from '../domain/money.js';
import { openStateInRun } from './lifecycle.js';

/** Version of the alert payload the Logic App receives; bump on any breaking change (schemas/alert.schema.json). */
export const ALERT_SCHEMA_VERSION = '1.0';

export interface AlertDocument {
  schemaVersion: typeof ALERT_SCHEMA_VERSION;
  source: 'steward';
  runId: string;
  tenantId: string;
  generatedAt: string;
  runStatus: string;
  /** Open findings by severity after this run (suppressed ones excluded), and what changed. */
  summary: {
    critical: number;
    warning: number;
    info: number;
    alerted: number;
    resolved: number;
    suppressed: number;
    /** SPEC §7 Money: the monthly cost of the open licence-waste findings, one entry per currency (never summed across). */
    reclaimableMonthly: Money[];
  };
  links: { run: string | null; findings: string | null };
  findings: {
    change: 'opened' | 'reopened' | 'severity-raised' | 'now-alerting';
    checkId: string;
    targetId: string;
    subjectId: string;
    severity: Severity;
    previousSeverity: Severity | null;
    title: string;
    remediation: string;
    details: Record<string, unknown>;
    firstSeenAt: string;
    openedAt: string;
    link: string | null;
  }[];
}

export function buildAlertDocument(input: {
  runId: string;
  tenantId: string;
  runStatus: string;
  now: Date;
  alerted: readonly StoredFinding[];
  open: readonly StoredFinding[];
  suppressedCount: number;
  resolvedCount: number;
  publicBaseUrl?: string;
}): AlertDocument {
  const base = input.publicBaseUrl?.replace(/\/+$/, '');
  const bySeverity = { critical: 0, warning: 0, info: 0 };
  for (const f of input.open) bySeverity[f.severity]++;
  const link = (f: StoredFinding) =>
    base ? `${base}/api/findings?${new URLSearchParams({ targetId: f.targetId, checkId: f.checkId }).toString()}` : null;
  const findings = [...input.alerted]
    .sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.checkId.localeCompare(b.checkId))
    .map((f) => ({
      change: changeOf(f, input.runId),
      checkId: f.checkId,
      targetId: f.targetId,
      subjectId: f.subjectId,
      severity: f.severity,
      previousSeverity: f.previousSeverity,
      title: f.title,
      remediation: f.remediation,
      details: f.details,
      firstSeenAt: f.firstSeenAt,
      openedAt: f.openedAt,
      link: link(f),
    }));
  return {
    schemaVersion: ALERT_SCHEMA_VERSION,
    source: 'steward',
    runId: input.runId,
    tenantId: input.tenantId,
    generatedAt: input.now.toISOString(),
    runStatus: input.runStatus,
    summary: {
      ...bySeverity,
      alerted: findings.length,
      resolved: input.resolvedCount,
      suppressed: input.suppressedCount,
      reclaimableMonthly: reclaimableMonthlyTotals(input.open),
    },
    links: { run: base ? `${base}/api/audits/${encodeURIComponent(input.runId)}` : null, findings: base ? `${base}/api/findings?status=open` : null },
    findings,
  };
}

function changeOf(f: StoredFinding, runId: string): AlertDocument['findings'][number]['change'] {
  const state = openStateInRun(f, runId);
  if (state !== 'open') return state === 'reopened' ? 'reopened' : 'opened';
  if (f.previousSeverity && SEVERITY_RANK[f.severity] > SEVERITY_RANK[f.previousSeverity] && f.lastRunId === runId) return 'severity-raised';
  // Open before and alerted only now: a suppression expired or the minimum severity went down.
  return 'now-alerting';
}
