import { randomBytes } from 'node:crypto';
import { odata, type TableClient, type TableEntity, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import type {
  AuditRun,
  FindingState,
  RunTarget,
  Severity,
  StoredFinding,
  Suppression,
  Finding,
} from '../../domain/finding.js';
import { ServiceError } from '../http/service-error.js';
import type { Tables } from './tables.js';
import { INVALID_KEY_CODE, invertedTimeKey, keySafe, subjectRowKey } from './keys.js';

import { statusOf, toStorageError } from './errors.js';
export { keySafe, hashKey, subjectRowKey, isKeySafe, keyProblem } from './keys.js';

/**
 * The audit's memory in Azure Table Storage (SPEC §2): findings with their life cycle, runs and
 * their per-target status, each run's findings for reports, suppressions, and the alert outbox.
 *
 * Tables and keys, chosen for the queries the API and the reports make:
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
 * Every failure is a `ServiceError` with service `storage` and the method's name as operation.
 */
export interface AuditStore {
  // Findings
  listFindings(filter?: FindingFilter): Promise<StoredFinding[]>;
  listFindingsOfTargets(targetIds: readonly string[]): Promise<StoredFinding[]>;
  getFinding(checkId: string, targetId: string, subjectId: string): Promise<StoredFinding | null>;
  /** Writes exactly the findings given (upsert, replace), in transactions of ≤ 100 per partition; returns how many. */
  saveFindings(changed: readonly StoredFinding[]): Promise<number>;
  /** Sets only the alert key of existing findings (a merge, in transactions of ≤ 100 per partition); returns how many. */
  saveAlertStates(findings: readonly AlertState[]): Promise<number>;

  // Runs
  /** Fails with status 409 when the run id exists. */
  createRun(run: AuditRun): Promise<void>;
  getRun(runId: string): Promise<AuditRun | null>;
  /** The run with the latest `startedAt`. */
  getLatestRun(): Promise<AuditRun | null>;
  /** Replaces the run; fails with status 404 when it does not exist. `startedAt` cannot change. */
  updateRun(run: AuditRun): Promise<void>;
  setTargetStatus(runId: string, target: RunTarget): Promise<void>;
  /** The status of several targets at once (one transaction per 100). */
  setTargetStatuses(runId: string, targets: readonly RunTarget[]): Promise<void>;
  listTargets(runId: string): Promise<RunTarget[]>;

  // Per-run history
  saveRunFindings(runId: string, entries: readonly RunFindingEntry[]): Promise<number>;
  listRunFindings(runId: string): Promise<RunFindingEntry[]>;

  // Suppressions
  suppress(s: Suppression): Promise<void>;
  /** True when a suppression was removed, false when there was none. */
  unsuppress(checkId: string, targetId: string, subjectId: string): Promise<boolean>;
  /** All suppressions, or only those still in force at `activeAt`. */
  listSuppressions(options?: { activeAt?: Date; targetId?: string }): Promise<Suppression[]>;

  // Alert outbox
  /**
   * Records the alert of a run until it is delivered. Returns false (and changes nothing) when
   * the run's alert was already delivered: it is never sent twice. Replaces a pending payload.
   */
  enqueueAlert(runId: string, payload: unknown): Promise<boolean>;
  /** Alerts not delivered yet, oldest first, with their payloads. */
  listPendingAlerts(): Promise<PendingAlert[]>;
  /** Fails with status 404 when the run has no alert. */
  markAlertDelivered(runId: string): Promise<void>;
  /**
   * Claims a pending alert for one delivery attempt (an optimistic lease on its head entity), so two
   * finalizers running at once cannot both send it. False when delivered, or claimed by another
   * whose lease has not run out.
   */
  claimAlert(runId: string, leaseMs: number): Promise<boolean>;
  /** Counts a failed delivery (it stays pending and is retried next run). */
  markAlertAttempt(runId: string, error: unknown): Promise<void>;
}

export interface FindingFilter {
  targetId?: string;
  checkId?: string;
  subjectId?: string;
  severity?: Severity;
  status?: StoredFinding['status'];
  state?: FindingState;
}

export type AlertState = Pick<StoredFinding, 'checkId' | 'targetId' | 'subjectId'> & { alertedState: string };

export interface RunFindingEntry {
  checkId: string;
  targetId: string;
  subjectId: string;
  severity: Severity;
  state: FindingState;
}

export interface PendingAlert {
  runId: string;
  payload: unknown;
  enqueuedAt: string;
  attempts: number;
  lastAttemptAt: string | null;
  lastError: string | null;
}

export interface AuditStoreOptions {
  /** Clock for the outbox's timestamps and the targets' `updatedAt`; injected so tests move time. */
  now?: () => Date;
}

export const AUDIT_TABLES = {
  findings: 'findings',
  runs: 'runs',
  runTargets: 'runtargets',
  runFindings: 'runfindings',
  suppressions: 'suppressions',
  alertOutbox: 'alertoutbox',
} as const;

/** A string property holds at most 64 KiB (UTF-16): 30 000 code units leaves a margin. */
export const MAX_PROPERTY_CHARS = 30_000;
/** Transactions: at most 100 operations and 4 MiB of payload. */
export const MAX_BATCH_ACTIONS = 100;
const MAX_BATCH_BYTES = 3_500_000;
/** Alert payload pieces per chunk entity: 12 × 60 KB stays well under the 1 MiB entity limit. */
const PIECES_PER_ENTITY = 12;
const PARALLEL_REQUESTS = 4;

const RUNS_PARTITION = 'runs';
const RUN_BY_ID = 'id_';
const RUN_BY_TIME = 't_';
const ALERTS_PARTITION = 'alerts';
const alertPayloadPartition = (runId: string) => `payload_${runId}`;

export function createAuditStore(tables: Tables, options: AuditStoreOptions = {}): AuditStore {
  return new TableAuditStore(tables, options);
}

type Entity = TableEntity<Record<string, unknown>>;
type Row = TableEntityResult<Record<string, unknown>>;

export class TableAuditStore implements AuditStore {
  private readonly now: () => Date;

  constructor(
    private readonly tables: Tables,
    options: AuditStoreOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  // ---------------------------------------------------------------- findings

  listFindings(filter: FindingFilter = {}): Promise<StoredFinding[]> {
    return this.op('listFindings', async () => {
      const clauses: string[] = [];
      if (filter.targetId !== undefined) clauses.push(odata`PartitionKey eq ${filter.targetId}`);
      if (filter.checkId !== undefined) clauses.push(odata`checkId eq ${filter.checkId}`);
      if (filter.subjectId !== undefined) clauses.push(odata`subjectId eq ${filter.subjectId}`);
      if (filter.severity !== undefined) clauses.push(odata`severity eq ${filter.severity}`);
      if (filter.status !== undefined) clauses.push(odata`status eq ${filter.status}`);
      if (filter.state !== undefined) clauses.push(odata`state eq ${filter.state}`);
      const rows = await this.query(AUDIT_TABLES.findings, clauses.length ? clauses.join(' and ') : undefined);
      return rows.map(toStoredFinding);
    });
  }

  listFindingsOfTargets(targetIds: readonly string[]): Promise<StoredFinding[]> {
    return this.op('listFindingsOfTargets', async () => {
      const unique = [...new Set(targetIds)];
      const perTarget = new Map<string, StoredFinding[]>();
      await forEachLimit(unique, PARALLEL_REQUESTS, async (targetId) => {
        const rows = await this.query(AUDIT_TABLES.findings, odata`PartitionKey eq ${targetId}`);
        perTarget.set(targetId, rows.map(toStoredFinding));
      });
      return unique.flatMap((id) => perTarget.get(id) ?? []);
    });
  }

  getFinding(checkId: string, targetId: string, subjectId: string): Promise<StoredFinding | null> {
    return this.op(
      'getFinding',
      async () => {
        const row = await this.pointRead(AUDIT_TABLES.findings, keySafe(targetId, 'getFinding'), subjectRowKey(checkId, subjectId));
        return row ? toStoredFinding(row) : null;
      },
      targetId,
    );
  }

  saveFindings(changed: readonly StoredFinding[]): Promise<number> {
    return this.op('saveFindings', async () => {
      if (changed.length === 0) return 0;
      const entities = changed.map((f) => findingEntity(f));
      return this.upsertAll(AUDIT_TABLES.findings, entities);
    });
  }

  saveAlertStates(findings: readonly AlertState[]): Promise<number> {
    return this.op('saveAlertStates', async () => {
      // A merge of one property: the finding's other properties (its details above all) are not sent again.
      const actions = findings.map<TransactionAction>((f) => [
        'update',
        { partitionKey: keySafe(f.targetId, 'saveAlertStates'), rowKey: subjectRowKey(f.checkId, f.subjectId), alertedState: f.alertedState },
        'Merge',
      ]);
      return this.submitAll(AUDIT_TABLES.findings, actions);
    });
  }

  // ---------------------------------------------------------------- runs

  createRun(run: AuditRun): Promise<void> {
    return this.op(
      'createRun',
      async () => {
        const [byId, byTime] = runEntities(run, 'createRun');
        const client = await this.tables.table(AUDIT_TABLES.runs);
        await client.submitTransaction([
          ['create', byId],
          ['create', byTime],
        ]);
      },
      run.runId,
    );
  }

  getRun(runId: string): Promise<AuditRun | null> {
    return this.op(
      'getRun',
      async () => {
        const row = await this.pointRead(AUDIT_TABLES.runs, RUNS_PARTITION, RUN_BY_ID + keySafe(runId, 'getRun'));
        return row ? toRun(row) : null;
      },
      runId,
    );
  }

  getLatestRun(): Promise<AuditRun | null> {
    return this.op('getLatestRun', async () => {
      const client = await this.tables.table(AUDIT_TABLES.runs);
      // `t_…` rows sort newest first; the upper bound is the character after `_`.
      const filter = odata`PartitionKey eq ${RUNS_PARTITION} and RowKey ge ${RUN_BY_TIME} and RowKey lt ${'t`'}`;
      for await (const page of client.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: 1 })) {
        const first = page[0];
        if (first) return toRun(first);
      }
      return null;
    });
  }

  updateRun(run: AuditRun): Promise<void> {
    return this.op(
      'updateRun',
      async () => {
        const [byId, byTime] = runEntities(run, 'updateRun');
        const client = await this.tables.table(AUDIT_TABLES.runs);
        // `update` (not upsert): an unknown run, or a changed startedAt, fails with 404.
        await client.submitTransaction([
          ['update', byId, 'Replace'],
          ['update', byTime, 'Replace'],
        ]);
      },
      run.runId,
    );
  }

  setTargetStatus(runId: string, target: RunTarget): Promise<void> {
    return this.op(
      'setTargetStatus',
      async () => {
        const client = await this.tables.table(AUDIT_TABLES.runTargets);
        await client.upsertEntity(this.targetEntity(runId, target, 'setTargetStatus'), 'Replace');
      },
      target.id,
    );
  }

  setTargetStatuses(runId: string, targets: readonly RunTarget[]): Promise<void> {
    return this.op(
      'setTargetStatuses',
      async () => {
        await this.upsertAll(AUDIT_TABLES.runTargets, targets.map((t) => this.targetEntity(runId, t, 'setTargetStatuses')));
      },
      runId,
    );
  }

  private targetEntity(runId: string, target: RunTarget, operation: string): Entity {
    const entity: Entity = {
      partitionKey: keySafe(runId, operation),
      rowKey: keySafe(target.id, operation),
      id: target.id,
      kind: target.kind,
      status: target.status,
      updatedAt: this.now().toISOString(),
    };
    if (target.name !== undefined) entity.name = clip(target.name);
    if (target.error !== undefined) entity.error = clip(target.error);
    if (target.attempts !== undefined) entity.attempts = target.attempts;
    return entity;
  }

  listTargets(runId: string): Promise<RunTarget[]> {
    return this.op(
      'listTargets',
      async () => {
        const rows = await this.query(AUDIT_TABLES.runTargets, odata`PartitionKey eq ${runId}`);
        return rows.map((row) => {
          const target: RunTarget = { id: str(row.id), kind: str(row.kind) as RunTarget['kind'], status: str(row.status) as RunTarget['status'] };
          if (typeof row.name === 'string') target.name = row.name;
          if (typeof row.error === 'string') target.error = row.error;
          if (typeof row.attempts === 'number') target.attempts = row.attempts;
          return target;
        });
      },
      runId,
    );
  }

  // ---------------------------------------------------------------- per-run history

  saveRunFindings(runId: string, entries: readonly RunFindingEntry[]): Promise<number> {
    return this.op(
      'saveRunFindings',
      async () => {
        if (entries.length === 0) return 0;
        const partitionKey = keySafe(runId, 'saveRunFindings');
        const byTarget = new Map<string, RunFindingEntry[]>();
        for (const e of entries) {
          const targetId = keySafe(e.targetId, 'saveRunFindings');
          byTarget.set(targetId, [...(byTarget.get(targetId) ?? []), e]);
        }
        // A new write id per call: a retried target adds its entries beside the first attempt's
        // (the later write wins per finding when read), as one entity per finding did.
        const writeId = this.newGeneration();
        const entities: Entity[] = [];
        for (const [targetId, list] of byTarget) {
          const rows: HistoryRow[] = list.map((e) => [e.checkId, e.subjectId, e.severity, e.state]);
          entities.push(...chunkEntities(partitionKey, `${targetId}_${writeId}`, JSON.stringify(rows), { targetId, writeId }));
        }
        await this.upsertAll(AUDIT_TABLES.runFindings, entities);
        return entries.length;
      },
      runId,
    );
  }

  listRunFindings(runId: string): Promise<RunFindingEntry[]> {
    return this.op(
      'listRunFindings',
      async () => {
        const rows = await this.query(AUDIT_TABLES.runFindings, odata`PartitionKey eq ${runId}`);
        const writes = new Map<string, Row[]>();
        for (const row of rows) {
          const key = `${str(row.writeId)}\u0000${str(row.targetId)}`;
          writes.set(key, [...(writes.get(key) ?? []), row]);
        }
        const latest = new Map<string, RunFindingEntry>();
        for (const key of [...writes.keys()].sort(compare)) {
          const chunks = writes.get(key)!;
          const targetId = str(chunks[0]!.targetId);
          const text = joinChunks(chunks);
          if (text === null) continue; // a write that stopped half-way; its target's retry wrote again
          for (const [checkId, subjectId, severity, state] of JSON.parse(text) as HistoryRow[]) {
            latest.set(`${checkId}\u0000${targetId}\u0000${subjectId}`, { checkId, targetId, subjectId, severity, state });
          }
        }
        return [...latest.values()].sort(
          (a, b) => compare(a.checkId, b.checkId) || compare(a.targetId, b.targetId) || compare(a.subjectId, b.subjectId),
        );
      },
      runId,
    );
  }

  // ---------------------------------------------------------------- suppressions

  suppress(s: Suppression): Promise<void> {
    return this.op(
      'suppress',
      async () => {
        for (const [name, value] of [
          ['expiresAt', s.expiresAt],
          ['createdAt', s.createdAt],
        ] as const) {
          if (!Number.isFinite(Date.parse(value))) {
            throw new ServiceError({ service: 'storage', operation: 'suppress', target: s.targetId, code: 'InvalidSuppression' }, `${name} is not a date: ${JSON.stringify(value)}`);
          }
        }
        const client = await this.tables.table(AUDIT_TABLES.suppressions);
        await client.upsertEntity(
          {
            partitionKey: keySafe(s.targetId, 'suppress'),
            rowKey: subjectRowKey(s.checkId, s.subjectId),
            checkId: s.checkId,
            targetId: s.targetId,
            subjectId: s.subjectId,
            reason: clip(s.reason),
            expiresAt: s.expiresAt,
            createdBy: clip(s.createdBy),
            createdAt: s.createdAt,
          },
          'Replace',
        );
      },
      s.targetId,
    );
  }

  unsuppress(checkId: string, targetId: string, subjectId: string): Promise<boolean> {
    return this.op(
      'unsuppress',
      async () => {
        const client = await this.tables.table(AUDIT_TABLES.suppressions);
        try {
          await client.deleteEntity(keySafe(targetId, 'unsuppress'), subjectRowKey(checkId, subjectId));
          return true;
        } catch (cause) {
          if (statusOf(cause) === 404) return false;
          throw cause;
        }
      },
      targetId,
    );
  }

  listSuppressions(options: { activeAt?: Date; targetId?: string } = {}): Promise<Suppression[]> {
    return this.op('listSuppressions', async () => {
      const filter = options.targetId !== undefined ? odata`PartitionKey eq ${options.targetId}` : undefined;
      const rows = await this.query(AUDIT_TABLES.suppressions, filter);
      const all = rows.map<Suppression>((row) => ({
        checkId: str(row.checkId),
        targetId: str(row.targetId),
        subjectId: str(row.subjectId),
        reason: str(row.reason),
        expiresAt: str(row.expiresAt),
        createdBy: str(row.createdBy),
        createdAt: str(row.createdAt),
      }));
      const at = options.activeAt;
      return at ? all.filter((s) => isActive(s, at)) : all;
    });
  }

  // ---------------------------------------------------------------- alert outbox

  enqueueAlert(runId: string, payload: unknown): Promise<boolean> {
    return this.op(
      'enqueueAlert',
      async () => {
        keySafe(runId, 'enqueueAlert');
        const json = JSON.stringify(payload);
        if (json === undefined) throw new TypeError('the alert payload is not JSON-serialisable');
        const client = await this.tables.table(AUDIT_TABLES.alertOutbox);
        const head = await this.pointRead(AUDIT_TABLES.alertOutbox, ALERTS_PARTITION, runId);
        if (head && head.status === 'delivered') return false;

        // Chunks first, under a new generation; the head, written last, switches to them.
        const generation = this.newGeneration();
        const partitionKey = alertPayloadPartition(runId);
        const chunks = chunkEntities(partitionKey, generation, json);
        await this.upsertAll(AUDIT_TABLES.alertOutbox, chunks);

        const entity: Entity = {
          partitionKey: ALERTS_PARTITION,
          rowKey: runId,
          runId,
          status: 'pending',
          enqueuedAt: head && typeof head.enqueuedAt === 'string' ? head.enqueuedAt : this.now().toISOString(),
          attempts: head && typeof head.attempts === 'number' ? head.attempts : 0,
          generation,
          chunks: chunks.length,
          payloadChars: json.length,
        };
        if (head && typeof head.lastAttemptAt === 'string') entity.lastAttemptAt = head.lastAttemptAt;
        if (head && typeof head.lastError === 'string') entity.lastError = head.lastError;
        if (head) {
          // Optimistic: if the head changed since it was read (delivered meanwhile), fail rather than resurrect it.
          await client.updateEntity(entity, 'Replace', { etag: head.etag });
        } else {
          await client.createEntity(entity);
        }
        // Chunks of an earlier generation (a replaced payload, an enqueue that stopped half-way) go.
        const stale = (await this.query(AUDIT_TABLES.alertOutbox, odata`PartitionKey eq ${partitionKey}`)).filter((row) => !String(row.rowKey).startsWith(`${generation}_`));
        await this.submitAll(AUDIT_TABLES.alertOutbox, stale.map<TransactionAction>((row) => ['delete', { partitionKey, rowKey: String(row.rowKey) }]));
        return true;
      },
      runId,
    );
  }

  listPendingAlerts(): Promise<PendingAlert[]> {
    return this.op('listPendingAlerts', async () => {
      const heads = await this.query(AUDIT_TABLES.alertOutbox, odata`PartitionKey eq ${ALERTS_PARTITION} and status eq ${'pending'}`);
      const alerts: PendingAlert[] = [];
      await forEachLimit(heads, PARALLEL_REQUESTS, async (head) => {
        const runId = str(head.runId);
        const generation = str(head.generation);
        const partitionKey = alertPayloadPartition(runId);
        const rows = await this.query(AUDIT_TABLES.alertOutbox, odata`PartitionKey eq ${partitionKey} and RowKey ge ${`${generation}_`} and RowKey lt ${`${generation}\``}`);
        const json = rows.length === head.chunks ? joinChunks(rows) : null;
        if (json === null) {
          throw new ServiceError({ service: 'storage', operation: 'listPendingAlerts', target: runId, code: 'AlertPayloadIncomplete' }, `expected ${String(head.chunks)} payload chunks, found ${rows.length}`);
        }
        alerts.push({
          runId,
          payload: JSON.parse(json) as unknown,
          enqueuedAt: str(head.enqueuedAt),
          attempts: typeof head.attempts === 'number' ? head.attempts : 0,
          lastAttemptAt: typeof head.lastAttemptAt === 'string' ? head.lastAttemptAt : null,
          lastError: typeof head.lastError === 'string' ? head.lastError : null,
        });
      });
      return alerts.sort((a, b) => compare(a.enqueuedAt, b.enqueuedAt) || compare(a.runId, b.runId));
    });
  }

  claimAlert(runId: string, leaseMs: number): Promise<boolean> {
    return this.op(
      'claimAlert',
      async () => {
        const head = await this.pointRead(AUDIT_TABLES.alertOutbox, ALERTS_PARTITION, keySafe(runId, 'claimAlert'));
        if (!head || head.status !== 'pending') return false;
        const now = this.now().getTime();
        if (typeof head.leaseUntil === 'string' && Date.parse(head.leaseUntil) > now) return false;
        const client = await this.tables.table(AUDIT_TABLES.alertOutbox);
        try {
          await client.updateEntity(
            { partitionKey: ALERTS_PARTITION, rowKey: runId, leaseUntil: new Date(now + leaseMs).toISOString() },
            'Merge',
            { etag: head.etag },
          );
          return true;
        } catch (error) {
          if ((error as { statusCode?: number }).statusCode === 412) return false; // another claimed it first
          throw error;
        }
      },
      runId,
    );
  }

  markAlertDelivered(runId: string): Promise<void> {
    return this.op(
      'markAlertDelivered',
      async () => {
        const client = await this.tables.table(AUDIT_TABLES.alertOutbox);
        // `update` (merge) fails with 404 when there is no such alert.
        await client.updateEntity({ partitionKey: ALERTS_PARTITION, rowKey: keySafe(runId, 'markAlertDelivered'), status: 'delivered', deliveredAt: this.now().toISOString() }, 'Merge');
      },
      runId,
    );
  }

  markAlertAttempt(runId: string, error: unknown): Promise<void> {
    return this.op(
      'markAlertAttempt',
      async () => {
        const client = await this.tables.table(AUDIT_TABLES.alertOutbox);
        const rowKey = keySafe(runId, 'markAlertAttempt');
        for (let attempt = 0; ; attempt++) {
          const head = await this.pointRead(AUDIT_TABLES.alertOutbox, ALERTS_PARTITION, rowKey);
          if (!head) throw new ServiceError({ service: 'storage', operation: 'markAlertAttempt', target: runId, status: 404, code: 'ResourceNotFound' }, 'no alert for this run');
          if (head.status === 'delivered') return;
          try {
            await client.updateEntity(
              {
                partitionKey: ALERTS_PARTITION,
                rowKey,
                attempts: (typeof head.attempts === 'number' ? head.attempts : 0) + 1,
                lastAttemptAt: this.now().toISOString(),
                lastError: clip(errorText(error)),
                // The attempt is over: release the claim so the next run may try again.
                leaseUntil: new Date(0).toISOString(),
              },
              'Merge',
              { etag: head.etag },
            );
            return;
          } catch (cause) {
            if (statusOf(cause) !== 412 || attempt >= 4) throw cause; // someone else changed it: read again
          }
        }
      },
      runId,
    );
  }

  // ---------------------------------------------------------------- plumbing

  /** A key part unique to one write, sorting in time order (ms in base 36, then randomness). */
  private newGeneration(): string {
    return this.now().getTime().toString(36).padStart(9, '0') + randomBytes(3).toString('hex');
  }

  /** Every failure becomes a ServiceError naming the method. */
  private async op<T>(operation: string, fn: () => Promise<T>, target?: string): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      throw toStorageError(operation, cause, target);
    }
  }

  private async query(table: string, filter: string | undefined): Promise<Row[]> {
    const client = await this.tables.table(table);
    const rows: Row[] = [];
    const iterator = client.listEntities<Record<string, unknown>>(filter ? { queryOptions: { filter } } : {});
    for await (const page of iterator.byPage({ maxPageSize: 1000 })) rows.push(...page);
    return rows;
  }

  private async pointRead(table: string, partitionKey: string, rowKey: string): Promise<Row | null> {
    const client = await this.tables.table(table);
    try {
      return await client.getEntity<Record<string, unknown>>(partitionKey, rowKey);
    } catch (cause) {
      if (statusOf(cause) === 404) return null;
      throw cause;
    }
  }

  /** Upserts (replace) the entities, later duplicates of a key winning; returns how many were written. */
  private upsertAll(table: string, entities: readonly Entity[]): Promise<number> {
    const unique = new Map<string, Entity>();
    for (const e of entities) unique.set(`${e.partitionKey}\u0000${e.rowKey}`, e);
    return this.submitAll(
      table,
      [...unique.values()].map<TransactionAction>((e) => ['upsert', e, 'Replace']),
    );
  }

  /** Groups actions by partition, submits them in transactions of ≤ 100 actions and ≤ 3.5 MB. */
  private async submitAll(table: string, actions: readonly TransactionAction[]): Promise<number> {
    if (actions.length === 0) return 0;
    const client: TableClient = await this.tables.table(table);
    const byPartition = new Map<string, TransactionAction[]>();
    for (const action of actions) {
      const list = byPartition.get(action[1].partitionKey) ?? [];
      list.push(action);
      byPartition.set(action[1].partitionKey, list);
    }
    const transactions: TransactionAction[][] = [];
    for (const list of byPartition.values()) {
      let current: TransactionAction[] = [];
      let bytes = 0;
      for (const action of list) {
        const size = Buffer.byteLength(JSON.stringify(action[1]), 'utf8') + 700;
        if (current.length > 0 && (current.length >= MAX_BATCH_ACTIONS || bytes + size > MAX_BATCH_BYTES)) {
          transactions.push(current);
          current = [];
          bytes = 0;
        }
        current.push(action);
        bytes += size;
      }
      if (current.length > 0) transactions.push(current);
    }
    let written = 0;
    await forEachLimit(transactions, PARALLEL_REQUESTS, async (transaction) => {
      await client.submitTransaction(transaction);
      written += transaction.length;
    });
    return written;
  }
}

// ------------------------------------------------------------------ suppression rules (pure)

function isActive(s: Suppression, now: Date): boolean {
  const expires = Date.parse(s.expiresAt);
  return Number.isFinite(expires) && expires > now.getTime();
}

/** The suppression in force for a finding at `now`, if any: an exact subject, or `*` for the whole check. */
export function findSuppression(
  finding: Pick<Finding, 'checkId' | 'targetId' | 'subjectId'>,
  suppressions: readonly Suppression[],
  now: Date,
): Suppression | undefined {
  return suppressions.find(
    (s) => s.checkId === finding.checkId && s.targetId === finding.targetId && (s.subjectId === '*' || s.subjectId === finding.subjectId) && isActive(s, now),
  );
}

/** Whether a finding is suppressed at `now` (expired suppressions do not count). */
export function isSuppressed(finding: Pick<Finding, 'checkId' | 'targetId' | 'subjectId'>, suppressions: readonly Suppression[], now: Date): boolean {
  return findSuppression(finding, suppressions, now) !== undefined;
}

// ------------------------------------------------------------------ entities

function findingEntity(f: StoredFinding): Entity {
  const { json, truncated } = serialiseDetails(f.details);
  const entity: Entity = {
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
  // Nulls are left out (Replace clears what an earlier version had).
  if (f.resolvedAt !== null) entity.resolvedAt = f.resolvedAt;
  if (f.previousSeverity !== null) entity.previousSeverity = f.previousSeverity;
  if (f.alertedState !== null) entity.alertedState = f.alertedState;
  return entity;
}

function toStoredFinding(row: Row): StoredFinding {
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

function runEntities(run: AuditRun, operation: string): [Entity, Entity] {
  keySafe(run.runId, operation);
  const order = invertedTimeKey(run.startedAt, operation);
  const properties: Record<string, unknown> = {
    runId: run.runId,
    status: run.status,
    startedAt: run.startedAt,
    trigger: run.trigger,
    ...textProperties('targets', JSON.stringify(run.targets ?? [])),
  };
  if (run.finishedAt !== null) properties.finishedAt = run.finishedAt;
  if (run.summary !== undefined) properties.summary = JSON.stringify(run.summary);
  return [
    { partitionKey: RUNS_PARTITION, rowKey: RUN_BY_ID + run.runId, ...properties },
    { partitionKey: RUNS_PARTITION, rowKey: `${RUN_BY_TIME}${order}_${run.runId}`, ...properties },
  ];
}

function toRun(row: Row): AuditRun {
  const run: AuditRun = {
    runId: str(row.runId),
    status: str(row.status) as AuditRun['status'],
    startedAt: str(row.startedAt),
    finishedAt: typeof row.finishedAt === 'string' ? row.finishedAt : null,
    trigger: str(row.trigger) as AuditRun['trigger'],
    targets: JSON.parse(readTextProperties(row, 'targets') || '[]') as RunTarget[],
  };
  if (typeof row.summary === 'string') run.summary = JSON.parse(row.summary) as NonNullable<AuditRun['summary']>;
  return run;
}

/** Text longer than one property, spread over `<name>_0`, `<name>_1`… with `<name>_n` pieces. */
function textProperties(name: string, text: string): Record<string, unknown> {
  const pieces = splitText(text, MAX_PROPERTY_CHARS);
  const out: Record<string, unknown> = { [`${name}_n`]: pieces.length };
  pieces.forEach((piece, i) => (out[`${name}_${i}`] = piece));
  return out;
}

function readTextProperties(row: Row, name: string): string {
  const n = Number(row[`${name}_n`] ?? 0);
  return Array.from({ length: n }, (_, i) => str(row[`${name}_${i}`])).join('');
}

/** `[checkId, subjectId, severity, state]`: one finding in a target's per-run history entity. */
type HistoryRow = [string, string, Severity, FindingState];

/**
 * Text too long for one entity, as entities `<prefix>_000000`, `<prefix>_000001`… each with up to
 * PIECES_PER_ENTITY properties `p0…` of MAX_PROPERTY_CHARS, its `pieces` count and the total `chunks`.
 */
function chunkEntities(partitionKey: string, rowKeyPrefix: string, text: string, extra: Record<string, unknown> = {}): Entity[] {
  const pieces = splitText(text, MAX_PROPERTY_CHARS);
  const count = Math.max(1, Math.ceil(pieces.length / PIECES_PER_ENTITY));
  return Array.from({ length: count }, (_, i) => {
    const part = pieces.slice(i * PIECES_PER_ENTITY, (i + 1) * PIECES_PER_ENTITY);
    const chunk: Entity = { partitionKey, rowKey: `${rowKeyPrefix}_${String(i).padStart(6, '0')}`, ...extra, pieces: part.length, chunks: count };
    part.forEach((piece, j) => (chunk[`p${j}`] = piece));
    return chunk;
  });
}

/** The text of `chunkEntities`' rows (any order), or null when some are missing. */
function joinChunks(rows: readonly Row[]): string | null {
  const sorted = [...rows].sort((a, b) => compare(String(a.rowKey), String(b.rowKey)));
  const expected = sorted[0]?.chunks;
  if (typeof expected === 'number' && expected !== sorted.length) return null;
  return sorted.map((row) => Array.from({ length: Number(row.pieces) }, (_, j) => str(row[`p${j}`])).join('')).join('');
}

// ------------------------------------------------------------------ details (64 KiB property limit)

/**
 * The details as JSON, at most `max` characters. Too large: the small entries are kept whole, a
 * long array keeps its first items, a long string its beginning, and `_truncated` says what was cut
 * (the result is always valid JSON of an object).
 */
export function serialiseDetails(details: Record<string, unknown>, max = MAX_PROPERTY_CHARS): { json: string; truncated: boolean } {
  const json = JSON.stringify(details ?? {});
  if (json.length <= max) return { json, truncated: false };
  const budget = max - 600; // room for the `_truncated` note
  const entries = Object.entries(details)
    .map(([key, value]) => ({ key, value, text: JSON.stringify(value) ?? 'null' }))
    .sort((a, b) => a.text.length - b.text.length);
  const out: Record<string, unknown> = {};
  const shortened: string[] = [];
  const omitted: string[] = [];
  let used = 2;
  for (const { key, value, text } of entries) {
    const overhead = JSON.stringify(key).length + 2;
    const room = budget - used - overhead;
    if (text.length <= room) {
      out[key] = value;
      used += overhead + text.length;
    } else if (Array.isArray(value) && room > 2) {
      let lo = 0;
      let hi = value.length;
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (JSON.stringify(value.slice(0, mid)).length <= room) lo = mid;
        else hi = mid - 1;
      }
      const kept = value.slice(0, lo);
      out[key] = kept;
      used += overhead + JSON.stringify(kept).length;
      shortened.push(`${key} (${lo} of ${value.length})`);
    } else if (typeof value === 'string' && room > 20) {
      let cut = value.slice(0, room - 10);
      while (JSON.stringify(cut).length + 1 > room) cut = cut.slice(0, Math.floor(cut.length * 0.9));
      cut = dropLoneSurrogate(cut);
      out[key] = `${cut}…`;
      used += overhead + JSON.stringify(out[key]).length;
      shortened.push(key);
    } else {
      omitted.push(key);
    }
  }
  out._truncated = { originalChars: json.length, shortened: shortened.slice(0, 10), omitted: omitted.slice(0, 10) };
  let result = JSON.stringify(out);
  if (result.length > max) result = JSON.stringify({ _truncated: { originalChars: json.length } });
  return { json: result, truncated: true };
}

function parseDetails(value: unknown): Record<string, unknown> {
  if (typeof value !== 'string' || value === '') return {};
  try {
    const parsed = JSON.parse(value) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
  } catch {
    return { _unreadable: value.slice(0, 200) };
  }
}

// ------------------------------------------------------------------ helpers

/** Splits text into pieces of at most `size` code units without cutting a surrogate pair. */
function splitText(text: string, size: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces.length ? pieces : [''];
}

function dropLoneSurrogate(text: string): string {
  const last = text.charCodeAt(text.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? text.slice(0, -1) : text;
}

/** A string property within the 64 KiB limit. */
function clip(value: string, max = MAX_PROPERTY_CHARS): string {
  return value.length <= max ? value : `${dropLoneSurrogate(value.slice(0, max - 1))}…`;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}


async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export { INVALID_KEY_CODE };
