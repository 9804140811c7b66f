import { odata, type TransactionAction } from '@azure/data-tables';
import type { AuditRun, RunTarget, StoredFinding, Suppression } from '../../domain/finding.js';
import { isActive } from '../../domain/suppression.js';
import { ServiceError } from '../http/service-error.js';
import { TableAlertOutbox } from './alert-outbox.js';
import type { AlertState, AuditStore, AuditStoreOptions, FindingFilter, PendingAlert, RunFindingEntry } from './audit-store.js';
import { chunkEntities, compare, joinChunks, str, type Entity, type Row } from './chunks.js';
import {
  AUDIT_TABLES,
  RUN_BY_ID,
  RUN_BY_TIME,
  RUNS_PARTITION,
  findingEntity,
  runEntities,
  runTargetEntity,
  suppressionEntity,
  toRun,
  toRunTarget,
  toStoredFinding,
  toSuppression,
  type HistoryRow,
} from './dto.js';
import { statusOf } from './errors.js';
import { keySafe, subjectRowKey } from './keys.js';
import { eachLimited, TableAccess } from './table-access.js';
import type { Tables } from './tables.js';

/** The audit's store on Azure Table Storage (tables and keys: `dto.ts`). */
export function createAuditStore(tables: Tables, options: AuditStoreOptions = {}): AuditStore {
  return new TableAuditStore(tables, options);
}

/** Findings, runs with their targets and history, and suppressions; the alert outbox beside them. */
export class TableAuditStore implements AuditStore {
  private readonly access: TableAccess;
  private readonly outbox: TableAlertOutbox;

  constructor(tables: Tables, options: AuditStoreOptions = {}) {
    this.access = new TableAccess(tables, options.now ?? (() => new Date()));
    this.outbox = new TableAlertOutbox(this.access);
  }

  // ---------------------------------------------------------------- findings

  listFindings(filter: FindingFilter = {}): Promise<StoredFinding[]> {
    return this.access.op('listFindings', async () => {
      const clauses: string[] = [];
      if (filter.targetId !== undefined) clauses.push(odata`PartitionKey eq ${filter.targetId}`);
      if (filter.checkId !== undefined) clauses.push(odata`checkId eq ${filter.checkId}`);
      if (filter.subjectId !== undefined) clauses.push(odata`subjectId eq ${filter.subjectId}`);
      if (filter.severity !== undefined) clauses.push(odata`severity eq ${filter.severity}`);
      if (filter.status !== undefined) clauses.push(odata`status eq ${filter.status}`);
      if (filter.state !== undefined) clauses.push(odata`state eq ${filter.state}`);
      const rows = await this.access.query(AUDIT_TABLES.findings, clauses.length ? clauses.join(' and ') : undefined);
      return rows.map(toStoredFinding);
    });
  }

  listFindingsOfTargets(targetIds: readonly string[]): Promise<StoredFinding[]> {
    return this.access.op('listFindingsOfTargets', async () => {
      const unique = [...new Set(targetIds)];
      const perTarget = new Map<string, StoredFinding[]>();
      await eachLimited(unique, async (targetId) => {
        const rows = await this.access.query(AUDIT_TABLES.findings, odata`PartitionKey eq ${targetId}`);
        perTarget.set(targetId, rows.map(toStoredFinding));
      });
      return unique.flatMap((id) => perTarget.get(id) ?? []);
    });
  }

  getFinding(checkId: string, targetId: string, subjectId: string): Promise<StoredFinding | null> {
    return this.access.op(
      'getFinding',
      async () => {
        const row = await this.access.pointRead(AUDIT_TABLES.findings, keySafe(targetId, 'getFinding'), subjectRowKey(checkId, subjectId));
        return row ? toStoredFinding(row) : null;
      },
      targetId,
    );
  }

  saveFindings(changed: readonly StoredFinding[]): Promise<number> {
    return this.access.op('saveFindings', async () => {
      if (changed.length === 0) return 0;
      return this.access.upsertAll(AUDIT_TABLES.findings, changed.map(findingEntity));
    });
  }

  saveAlertStates(findings: readonly AlertState[]): Promise<number> {
    return this.access.op('saveAlertStates', async () => {
      // A merge of one property: the finding's other properties (its details above all) are not sent again.
      const actions = findings.map<TransactionAction>((f) => [
        'update',
        { partitionKey: keySafe(f.targetId, 'saveAlertStates'), rowKey: subjectRowKey(f.checkId, f.subjectId), alertedState: f.alertedState },
        'Merge',
      ]);
      return this.access.submitAll(AUDIT_TABLES.findings, actions);
    });
  }

  // ---------------------------------------------------------------- runs

  createRun(run: AuditRun): Promise<void> {
    return this.access.op(
      'createRun',
      async () => {
        const [byId, byTime] = runEntities(run, 'createRun');
        const client = await this.access.table(AUDIT_TABLES.runs);
        await client.submitTransaction([
          ['create', byId],
          ['create', byTime],
        ]);
      },
      run.runId,
    );
  }

  getRun(runId: string): Promise<AuditRun | null> {
    return this.access.op(
      'getRun',
      async () => {
        const row = await this.access.pointRead(AUDIT_TABLES.runs, RUNS_PARTITION, RUN_BY_ID + keySafe(runId, 'getRun'));
        return row ? toRun(row) : null;
      },
      runId,
    );
  }

  getLatestRun(): Promise<AuditRun | null> {
    return this.access.op('getLatestRun', async () => {
      const client = await this.access.table(AUDIT_TABLES.runs);
      // `t_…` rows sort newest first; the upper bound is the character after `_`.
      const filter = odata`PartitionKey eq ${RUNS_PARTITION} and RowKey ge ${RUN_BY_TIME} and RowKey lt ${'t`'}`;
      for await (const page of client.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: 1 })) {
        const first = page[0];
        if (first) return toRun(first);
      }
      return null;
    });
  }

  listRecentRuns(limit: number): Promise<AuditRun[]> {
    return this.access.op('listRecentRuns', async () => {
      const client = await this.access.table(AUDIT_TABLES.runs);
      const filter = odata`PartitionKey eq ${RUNS_PARTITION} and RowKey ge ${RUN_BY_TIME} and RowKey lt ${'t`'}`;
      const runs: AuditRun[] = [];
      for await (const page of client.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: Math.min(limit, 1000) })) {
        for (const row of page) {
          if (runs.length === limit) return runs;
          runs.push(toRun(row));
        }
        if (runs.length === limit) break;
      }
      return runs;
    });
  }

  updateRun(run: AuditRun): Promise<void> {
    return this.access.op(
      'updateRun',
      async () => {
        const [byId, byTime] = runEntities(run, 'updateRun');
        const client = await this.access.table(AUDIT_TABLES.runs);
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
    return this.access.op(
      'setTargetStatus',
      async () => {
        const client = await this.access.table(AUDIT_TABLES.runTargets);
        await client.upsertEntity(runTargetEntity(runId, target, 'setTargetStatus', this.access.now()), 'Replace');
      },
      target.id,
    );
  }

  setTargetStatuses(runId: string, targets: readonly RunTarget[]): Promise<void> {
    return this.access.op(
      'setTargetStatuses',
      async () => {
        const now = this.access.now();
        await this.access.upsertAll(AUDIT_TABLES.runTargets, targets.map((t) => runTargetEntity(runId, t, 'setTargetStatuses', now)));
      },
      runId,
    );
  }

  listTargets(runId: string): Promise<RunTarget[]> {
    return this.access.op(
      'listTargets',
      async () => (await this.access.query(AUDIT_TABLES.runTargets, odata`PartitionKey eq ${runId}`)).map(toRunTarget),
      runId,
    );
  }

  // ---------------------------------------------------------------- per-run history

  saveRunFindings(runId: string, entries: readonly RunFindingEntry[]): Promise<number> {
    return this.access.op(
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
        const writeId = this.access.newGeneration();
        const entities: Entity[] = [];
        for (const [targetId, list] of byTarget) {
          const rows: HistoryRow[] = list.map((e) => [e.checkId, e.subjectId, e.severity, e.state]);
          entities.push(...chunkEntities(partitionKey, `${targetId}_${writeId}`, JSON.stringify(rows), { targetId, writeId }));
        }
        await this.access.upsertAll(AUDIT_TABLES.runFindings, entities);
        return entries.length;
      },
      runId,
    );
  }

  listRunFindings(runId: string): Promise<RunFindingEntry[]> {
    return this.access.op(
      'listRunFindings',
      async () => {
        const rows = await this.access.query(AUDIT_TABLES.runFindings, odata`PartitionKey eq ${runId}`);
        return latestHistory(rows).sort(
          (a, b) => compare(a.checkId, b.checkId) || compare(a.targetId, b.targetId) || compare(a.subjectId, b.subjectId),
        );
      },
      runId,
    );
  }

  // ---------------------------------------------------------------- suppressions

  suppress(s: Suppression): Promise<void> {
    return this.access.op(
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
        const client = await this.access.table(AUDIT_TABLES.suppressions);
        await client.upsertEntity(suppressionEntity(s), 'Replace');
      },
      s.targetId,
    );
  }

  unsuppress(checkId: string, targetId: string, subjectId: string): Promise<boolean> {
    return this.access.op(
      'unsuppress',
      async () => {
        const client = await this.access.table(AUDIT_TABLES.suppressions);
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
    return this.access.op('listSuppressions', async () => {
      const filter = options.targetId !== undefined ? odata`PartitionKey eq ${options.targetId}` : undefined;
      const all = (await this.access.query(AUDIT_TABLES.suppressions, filter)).map(toSuppression);
      const at = options.activeAt;
      return at ? all.filter((s) => isActive(s, at)) : all;
    });
  }

  // ---------------------------------------------------------------- alert outbox (alert-outbox.ts)

  enqueueAlert(runId: string, payload: unknown): Promise<boolean> {
    return this.outbox.enqueueAlert(runId, payload);
  }

  listPendingAlerts(): Promise<PendingAlert[]> {
    return this.outbox.listPendingAlerts();
  }

  markAlertDelivered(runId: string): Promise<void> {
    return this.outbox.markAlertDelivered(runId);
  }

  claimAlert(runId: string, leaseMs: number): Promise<boolean> {
    return this.outbox.claimAlert(runId, leaseMs);
  }

  markAlertAttempt(runId: string, error: unknown): Promise<void> {
    return this.outbox.markAlertAttempt(runId, error);
  }
}

/** A run's history entities, each finding as its latest write says (writes in time order; a half-written one is skipped). */
function latestHistory(rows: readonly Row[]): RunFindingEntry[] {
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
  return [...latest.values()];
}
