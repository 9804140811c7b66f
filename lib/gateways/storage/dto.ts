import type { AuditRun, FindingState, RunTarget, Severity, StoredFinding, Suppression, TargetFailure } from '../../domain/finding.js';
import { clip, parseDetails, readTextProperties, serialiseDetails, str, textProperties, type Row } from './chunks.js';
import { invertedTimeKey, keySafe, subjectRowKey } from './keys.js';

/**
 * The audit's entities as Table Storage holds them (the wire shapes), and their conversion to
 * and from the domain's shapes. Tables and keys (chosen for the queries the API and reports make):
 * - `findings`     PK = targetId, RK = hash(checkId|subjectId): one partition per target, so a
 *                  target's findings are one partition scan and a finding one point read.
 * - `runs`         PK = `runs`, two rows per run written in one transaction: RK = `t_<inverted
 *                  startedAt>_<runId>` (the newest run is the first row) and RK = `id_<runId>`.
 * - `runtargets`   PK = runId, RK = target id: one entity per target, so parallel workers never
 *                  overwrite each other.
 * - `runfindings`  PK = runId, RK = `<targetId>_<write id>_<chunk>`: each target's changes of the
 *                  run as one JSON list (chunked past ~360,000 characters), so the history costs a
 *                  write per target, not one per finding, and a run's report is one partition scan.
 * - `suppressions` PK = targetId, RK = hash(checkId|subjectId) (`*` = the whole check).
 * - `alertoutbox`  PK = `alerts`, RK = runId (state of delivery); PK = `payload_<runId>`,
 *                  RK = `<generation>_<index>` (the payload JSON in chunks).
 * Keys are never built from UPNs or subject text (guest UPNs contain `#`): those are hashed.
 * Read values are checked, not trusted: a missing or mistyped property reads as empty.
 */

export const AUDIT_TABLES = {
  findings: 'findings',
  runs: 'runs',
  runTargets: 'runtargets',
  runFindings: 'runfindings',
  suppressions: 'suppressions',
  alertOutbox: 'alertoutbox',
} as const;

export const RUNS_PARTITION = 'runs';
export const RUN_BY_ID = 'id_';
export const RUN_BY_TIME = 't_';
export const ALERTS_PARTITION = 'alerts';
export const alertPayloadPartition = (runId: string) => `payload_${runId}`;

// Type aliases, not interfaces: the SDK takes entities as `Record<string, unknown>`.
type Keys = {
  partitionKey: string;
  rowKey: string;
};

/** A finding; nulls are left out (Replace clears what an earlier version had). */
export type FindingEntity = Keys & {
  checkId: string;
  targetId: string;
  subjectId: string;
  severity: Severity;
  title: string;
  /** JSON of the details, at most MAX_PROPERTY_CHARS (`detailsTruncated` when cut). */
  details: string;
  detailsTruncated: boolean;
  remediation: string;
  status: StoredFinding['status'];
  state: FindingState;
  firstSeenAt: string;
  lastSeenAt: string;
  openedAt: string;
  openedRunId: string;
  reopenCount: number;
  lastRunId: string;
  resolvedAt?: string;
  previousSeverity?: Severity;
  alertedState?: string;
};

/** A run (both of its rows carry the same properties); `targets` is JSON spread over `targets_<i>`. */
export type RunEntity = Keys & Record<string, unknown> & {
  runId: string;
  status: AuditRun['status'];
  startedAt: string;
  trigger: AuditRun['trigger'];
  finishedAt?: string;
  /** JSON of the summary. */
  summary?: string;
};

export type RunTargetEntity = Keys & {
  id: string;
  kind: RunTarget['kind'];
  status: RunTarget['status'];
  updatedAt: string;
  name?: string;
  error?: string;
  /** JSON of the `TargetFailure`. */
  failure?: string;
  attempts?: number;
  /** JSON of the `CollectionMode` (SPEC §9). */
  collection?: string;
  upstreamRequests?: number;
};

/** `[checkId, subjectId, severity, state]`: one finding in a target's per-run history entity. */
export type HistoryRow = [string, string, Severity, FindingState];

export type SuppressionEntity = Keys & Suppression;

/** The head entity of a run's alert: its state of delivery and the generation of its payload chunks. */
export type AlertHeadEntity = Keys & {
  runId: string;
  status: 'pending' | 'delivered';
  enqueuedAt: string;
  attempts: number;
  generation: string;
  chunks: number;
  payloadChars: number;
  lastAttemptAt?: string;
  lastError?: string;
  /** Until when a finalizer holds the claim to deliver it. */
  leaseUntil?: string;
  deliveredAt?: string;
};

// ── findings ──

export function findingEntity(f: StoredFinding): FindingEntity {
  const { json, truncated } = serialiseDetails(f.details);
  const entity: FindingEntity = {
    partitionKey: keySafe(f.targetId, 'saveFindings'),
    rowKey: subjectRowKey(f.checkId, f.subjectId),
    checkId: f.checkId,
    targetId: f.targetId,
    subjectId: clip(f.subjectId),
    severity: f.severity,
    title: clip(f.title),
    details: json,
    detailsTruncated: truncated,
    remediation: clip(f.remediation),
    status: f.status,
    state: f.state,
    firstSeenAt: f.firstSeenAt,
    lastSeenAt: f.lastSeenAt,
    openedAt: f.openedAt,
    openedRunId: f.openedRunId,
    reopenCount: f.reopenCount,
    lastRunId: f.lastRunId,
  };
  if (f.resolvedAt !== null) entity.resolvedAt = f.resolvedAt;
  if (f.previousSeverity !== null) entity.previousSeverity = f.previousSeverity;
  if (f.alertedState !== null) entity.alertedState = f.alertedState;
  return entity;
}

export function toStoredFinding(row: Row): StoredFinding {
  return {
    checkId: str(row.checkId),
    targetId: str(row.targetId),
    subjectId: str(row.subjectId),
    severity: str(row.severity) as Severity,
    title: str(row.title),
    details: parseDetails(row.details),
    remediation: str(row.remediation),
    status: str(row.status) as StoredFinding['status'],
    state: str(row.state) as FindingState,
    firstSeenAt: str(row.firstSeenAt),
    lastSeenAt: str(row.lastSeenAt),
    openedAt: str(row.openedAt),
    openedRunId: str(row.openedRunId),
    resolvedAt: typeof row.resolvedAt === 'string' ? row.resolvedAt : null,
    reopenCount: typeof row.reopenCount === 'number' ? row.reopenCount : 0,
    previousSeverity: typeof row.previousSeverity === 'string' ? (row.previousSeverity as Severity) : null,
    lastRunId: str(row.lastRunId),
    alertedState: typeof row.alertedState === 'string' ? row.alertedState : null,
  };
}

// ── runs and their targets ──

export function runEntities(run: AuditRun, operation: string): [RunEntity, RunEntity] {
  keySafe(run.runId, operation);
  const order = invertedTimeKey(run.startedAt, operation);
  const properties = {
    runId: run.runId,
    status: run.status,
    startedAt: run.startedAt,
    trigger: run.trigger,
    ...textProperties('targets', JSON.stringify(run.targets ?? [])),
    ...(run.finishedAt !== null ? { finishedAt: run.finishedAt } : {}),
    ...(run.summary !== undefined ? { summary: JSON.stringify(run.summary) } : {}),
    ...(run.stalled !== undefined ? { stalled: JSON.stringify(run.stalled) } : {}),
    ...(run.supersedes !== undefined ? { supersedes: JSON.stringify(run.supersedes) } : {}),
    ...(run.collection !== undefined ? { collection: JSON.stringify(run.collection) } : {}),
  };
  return [
    { partitionKey: RUNS_PARTITION, rowKey: RUN_BY_ID + run.runId, ...properties },
    { partitionKey: RUNS_PARTITION, rowKey: `${RUN_BY_TIME}${order}_${run.runId}`, ...properties },
  ];
}

export function toRun(row: Row): AuditRun {
  const run: AuditRun = {
    runId: str(row.runId),
    status: str(row.status) as AuditRun['status'],
    startedAt: str(row.startedAt),
    finishedAt: typeof row.finishedAt === 'string' ? row.finishedAt : null,
    trigger: str(row.trigger) as AuditRun['trigger'],
    targets: JSON.parse(readTextProperties(row, 'targets') || '[]') as RunTarget[],
  };
  if (typeof row.summary === 'string') run.summary = JSON.parse(row.summary) as NonNullable<AuditRun['summary']>;
  if (typeof row.stalled === 'string') run.stalled = JSON.parse(row.stalled) as NonNullable<AuditRun['stalled']>;
  if (typeof row.supersedes === 'string') run.supersedes = JSON.parse(row.supersedes) as string[];
  if (typeof row.collection === 'string') run.collection = JSON.parse(row.collection) as NonNullable<AuditRun['collection']>;
  return run;
}

export function runTargetEntity(runId: string, target: RunTarget, operation: string, updatedAt: Date): RunTargetEntity {
  const entity: RunTargetEntity = {
    partitionKey: keySafe(runId, operation),
    rowKey: keySafe(target.id, operation),
    id: target.id,
    kind: target.kind,
    status: target.status,
    updatedAt: updatedAt.toISOString(),
  };
  if (target.name !== undefined) entity.name = clip(target.name);
  if (target.error !== undefined) entity.error = clip(target.error);
  if (target.failure !== undefined) entity.failure = JSON.stringify(target.failure);
  if (target.attempts !== undefined) entity.attempts = target.attempts;
  if (target.collection !== undefined) entity.collection = JSON.stringify(target.collection);
  if (target.upstreamRequests !== undefined) entity.upstreamRequests = target.upstreamRequests;
  return entity;
}

export function toRunTarget(row: Row): RunTarget {
  const target: RunTarget = { id: str(row.id), kind: str(row.kind) as RunTarget['kind'], status: str(row.status) as RunTarget['status'] };
  if (typeof row.name === 'string') target.name = row.name;
  if (typeof row.error === 'string') target.error = row.error;
  if (typeof row.failure === 'string') target.failure = JSON.parse(row.failure) as TargetFailure;
  if (typeof row.attempts === 'number') target.attempts = row.attempts;
  if (typeof row.updatedAt === 'string') target.updatedAt = row.updatedAt;
  if (typeof row.collection === 'string') target.collection = JSON.parse(row.collection) as NonNullable<RunTarget['collection']>;
  if (typeof row.upstreamRequests === 'number') target.upstreamRequests = row.upstreamRequests;
  return target;
}

// ── suppressions ──

export function suppressionEntity(s: Suppression): SuppressionEntity {
  return {
    partitionKey: keySafe(s.targetId, 'suppress'),
    rowKey: subjectRowKey(s.checkId, s.subjectId),
    checkId: s.checkId,
    targetId: s.targetId,
    subjectId: s.subjectId,
    reason: clip(s.reason),
    expiresAt: s.expiresAt,
    createdBy: clip(s.createdBy),
    createdAt: s.createdAt,
  };
}

export function toSuppression(row: Row): Suppression {
  return {
    checkId: str(row.checkId),
    targetId: str(row.targetId),
    subjectId: str(row.subjectId),
    reason: str(row.reason),
    expiresAt: str(row.expiresAt),
    createdBy: str(row.createdBy),
    createdAt: str(row.createdAt),
  };
}
