import { metrics } from '@opentelemetry/api';
import type { AuditRun } from '../domain/finding.js';
import { TRACER_NAME } from './upstream.js';

/**
 * The metrics of a finished audit run, emitted once when it is finalized (lib/audit/pipeline.ts):
 *
 * - `steward.audit.runs` (counter): one per run, by `status` and `trigger`;
 * - `steward.audit.targets` (counter): the run's targets, by `kind` and `status`;
 * - `steward.audit.findings` (counter): the findings open after the run, by `severity`;
 * - `steward.audit.upstream_requests` (counter): the HTTP requests the run made to Graph, the
 *   admin API, Dataverse and Salesforce (every attempt, retries too);
 * - `steward.audit.duration` (histogram, seconds): start to finish, by `status`.
 *
 * No attribute carries a run id or a tenant value, so the series stay few. Without a registered
 * SDK the instruments are no-ops.
 */

const meter = () => metrics.getMeter(TRACER_NAME);

export function recordAuditRunMetrics(run: AuditRun, counts: { upstreamRequests: number }): void {
  const m = meter();
  const status = run.status;
  m.createCounter('steward.audit.runs', { description: 'Audit runs finished' }).add(1, { status, trigger: run.trigger });
  const targets = m.createCounter('steward.audit.targets', { description: 'Targets of the finished audit runs' });
  for (const target of run.targets) targets.add(1, { kind: target.kind, status: target.status });
  const findings = m.createCounter('steward.audit.findings', { description: 'Findings open after each audit run' });
  for (const severity of ['critical', 'warning', 'info'] as const) findings.add(run.summary?.[severity] ?? 0, { severity });
  m.createCounter('steward.audit.upstream_requests', { description: 'Upstream HTTP requests of the audit runs, retries included' }).add(counts.upstreamRequests);
  if (run.finishedAt) {
    const seconds = (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000;
    m.createHistogram('steward.audit.duration', { description: 'Audit run duration', unit: 's' }).record(Math.max(0, seconds), { status });
  }
}
