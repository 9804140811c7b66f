import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import { SEVERITY_RANK, type Severity, type StoredFinding } from '../domain/finding.js';
import { reclaimableMonthlyTotals, type Money } from '../domain/money.js';
import { buildAlertCard, type AdaptiveCard } from './alert-card.js';
import { openStateInRun } from './lifecycle.js';

/**
 * Version of the alert payload the Logic App receives (schemas/alert.schema.json). 1.1 added
 * `deliveryId`, `card` and `links.report`; a breaking change bumps the major version.
 */
export const ALERT_SCHEMA_VERSION = '1.1';

export interface AlertDocument {
  schemaVersion: typeof ALERT_SCHEMA_VERSION;
  source: 'steward';
  /**
   * Issue 12 D4: delivery is at least once (a process that dies between the POST and recording it
   * posts again), so every delivery of one document carries the same id, as this field and as the
   * `Idempotency-Key` header: a receiver drops an id it has seen. See `deliveryIdOf`.
   */
  deliveryId: string;
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
  links: { run: string | null; report: string | null; findings: string | null };
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
  /** The ready Teams message (alert-card.ts): Adaptive Card 1.5. */
  card: AdaptiveCard;
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
  const run = base ? `${base}/api/audits/${encodeURIComponent(input.runId)}` : null;
  const content = {
    runId: input.runId,
    tenantId: input.tenantId,
    runStatus: input.runStatus,
    summary: {
      ...bySeverity,
      alerted: findings.length,
      resolved: input.resolvedCount,
      suppressed: input.suppressedCount,
      reclaimableMonthly: reclaimableMonthlyTotals(input.open),
    },
    // The run's HTML report (GET /api/audits/{runId}/report) and its findings.
    links: { run, report: run ? `${run}/report` : null, findings: base ? `${base}/api/findings?status=open` : null },
    findings,
  };
  return {
    schemaVersion: ALERT_SCHEMA_VERSION,
    source: 'steward',
    deliveryId: deliveryIdOf(input.runId, content),
    runId: content.runId,
    tenantId: content.tenantId,
    generatedAt: input.now.toISOString(),
    runStatus: content.runStatus,
    summary: content.summary,
    links: content.links,
    findings: content.findings,
    card: buildAlertCard(content),
  };
}

/**
 * The delivery id of a run's document: the runId and a SHA-256 of what the document says, read in a
 * stable key order (safe-stable-stringify), without `generatedAt` (a finalize that runs again
 * after a crash rebuilds the same alert at a later time: it is the same delivery). Key-safe for a
 * Table Storage RowKey (no `/ \ # ?`), which is where the shipped Logic App records it.
 */
export function deliveryIdOf(runId: string, content: unknown): string {
  const digest = createHash('sha256').update(stringify(content) ?? '').digest('hex');
  return `${runId}.${digest.slice(0, 32)}`;
}

/**
 * What to post for an outbox entry: its document and delivery id. A document queued before
 * `deliveryId` existed (schema 1.0) gets one from its runId and stored payload, which do not change
 * between attempts, so its redeliveries carry the same id too.
 */
export function alertDeliveryOf(pending: { runId: string; payload: unknown }): { deliveryId: string; document: unknown } {
  const payload = pending.payload as { deliveryId?: unknown } | null;
  if (payload && typeof payload === 'object' && typeof payload.deliveryId === 'string' && payload.deliveryId.length > 0) {
    return { deliveryId: payload.deliveryId, document: payload };
  }
  const deliveryId = deliveryIdOf(pending.runId, pending.payload);
  return { deliveryId, document: payload && typeof payload === 'object' ? { ...payload, deliveryId } : payload };
}

function changeOf(f: StoredFinding, runId: string): AlertDocument['findings'][number]['change'] {
  const state = openStateInRun(f, runId);
  if (state !== 'open') return state === 'reopened' ? 'reopened' : 'opened';
  if (f.previousSeverity && SEVERITY_RANK[f.severity] > SEVERITY_RANK[f.previousSeverity] && f.lastRunId === runId) return 'severity-raised';
  // Open before and alerted only now: a suppression expired or the minimum severity went down.
  return 'now-alerting';
}
