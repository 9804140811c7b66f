import { randomBytes } from 'node:crypto';
import type { TableClient, TransactionAction } from '@azure/data-tables';
import pLimit from 'p-limit';
import { MAX_BATCH_ACTIONS, MAX_BATCH_BYTES, type Entity, type Row } from './chunks.js';
import { statusOf, toStorageError } from './errors.js';
import type { Tables } from './tables.js';

/** Requests in flight at once for one call of a store (partition scans, transactions). */
const PARALLEL_REQUESTS = 4;

/**
 * What the audit's stores share on top of the Tables SDK: every failure as a `ServiceError`
 * naming the store's method, queries read to the last page, point reads that answer null for
 * 404, and batched writes (transactions of ≤ 100 actions and ≤ 3.5 MB per partition).
 */
export class TableAccess {
  constructor(
    private readonly tables: Tables,
    readonly now: () => Date,
  ) {}

  table(name: string): Promise<TableClient> {
    return this.tables.table(name);
  }

  /** Every failure becomes a ServiceError naming the method. */
  async op<T>(operation: string, fn: () => Promise<T>, target?: string): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      throw toStorageError(operation, cause, target);
    }
  }

  async query(table: string, filter: string | undefined): Promise<Row[]> {
    const client = await this.tables.table(table);
    const rows: Row[] = [];
    const iterator = client.listEntities<Record<string, unknown>>(filter ? { queryOptions: { filter } } : {});
    for await (const page of iterator.byPage({ maxPageSize: 1000 })) rows.push(...page);
    return rows;
  }

  async pointRead(table: string, partitionKey: string, rowKey: string): Promise<Row | null> {
    const client = await this.tables.table(table);
    try {
      return await client.getEntity<Record<string, unknown>>(partitionKey, rowKey);
    } catch (cause) {
      if (statusOf(cause) === 404) return null;
      throw cause;
    }
  }

  /** Upserts (replace) the entities, later duplicates of a key winning; returns how many were written. */
  upsertAll(table: string, entities: readonly Entity[]): Promise<number> {
    const unique = new Map<string, Entity>();
    for (const e of entities) unique.set(`${e.partitionKey}\u0000${e.rowKey}`, e);
    return this.submitAll(
      table,
      [...unique.values()].map<TransactionAction>((e) => ['upsert', e, 'Replace']),
    );
  }

  /** Groups actions by partition, submits them in transactions of ≤ 100 actions and ≤ 3.5 MB. */
  async submitAll(table: string, actions: readonly TransactionAction[]): Promise<number> {
    if (actions.length === 0) return 0;
    const client = await this.tables.table(table);
    let written = 0;
    await eachLimited(transactionsOf(actions), async (transaction) => {
      await client.submitTransaction(transaction);
      written += transaction.length;
    });
    return written;
  }

  /** A key part unique to one write, sorting in time order (ms in base 36, then randomness). */
  newGeneration(): string {
    return this.now().getTime().toString(36).padStart(9, '0') + randomBytes(3).toString('hex');
  }
}

function transactionsOf(actions: readonly TransactionAction[]): TransactionAction[][] {
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
  return transactions;
}

/**
 * `fn` for every item, PARALLEL_REQUESTS at a time; after a failure no further item starts (those
 * under way finish) and the first failure is thrown.
 */
export async function eachLimited<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  const limit = pLimit(PARALLEL_REQUESTS);
  let failed = false;
  await Promise.all(
    items.map((item) =>
      limit(async () => {
        if (failed) return;
        try {
          await fn(item);
        } catch (error) {
          failed = true;
          throw error;
        }
      }),
    ),
  );
}
