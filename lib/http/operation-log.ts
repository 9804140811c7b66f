import { randomUUID } from 'node:crypto';
import { odata } from '@azure/data-tables';
import type { Tables } from '../gateways/storage/tables.js';

/**
 * The operation log (table `operations`): one row per call of the HTTP API — who, which route,
 * which targets, the outcome and how long it took. It never holds a request body, a password, a
 * token or any secret (U1): only ids the caller put in the path (or the route chose to name) and
 * the status of the answer, and the call's trace id.
 *
 * PartitionKey = the UTC day (`2025-01-31`), RowKey = ISO time + a monotonic clock + a random
 * suffix, so a day reads in order with one partition query.
 */

export const OPERATIONS_TABLE = 'operations';

export type OperationOutcome = 'succeeded' | 'accepted' | 'refused' | 'failed' | 'replayed';

export interface OperationLogEntry {
  at: Date;
  /** The principal id (`function-key` when only a function key was used). */
  principal: string;
  authenticated: boolean;
  route: string;
  method: string;
  /** Ids of what the call was about: environment, user, org, application… */
  target: Record<string, string>;
  status: number;
  outcome: OperationOutcome;
  /** For a refused or failed call, the problem type and fact id (no detail text). */
  problemType?: string;
  factId?: string;
  durationMs: number;
  /** The W3C trace id of the call (the one its problem+json answer names). */
  traceId?: string;
  /** The Functions invocation that carried it. */
  invocationId?: string;
}

export function outcomeOf(status: number, replayed: boolean): OperationOutcome {
  if (replayed) return 'replayed';
  if (status === 202) return 'accepted';
  if (status < 400) return 'succeeded';
  if (status < 500) return 'refused';
  return 'failed';
}

const MAX_TARGET_VALUE = 256;

/** Only short strings; anything longer is cut (a fuzzed path must not bloat the log). */
export function cleanTarget(target: Record<string, unknown>): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(target)) {
    if (typeof value !== 'string' || value.length === 0) continue;
    clean[key] = value.length > MAX_TARGET_VALUE ? `${value.slice(0, MAX_TARGET_VALUE)}…` : value;
  }
  return clean;
}

export async function writeOperationLog(tables: Tables, entry: OperationLogEntry): Promise<void> {
  const client = await tables.table(OPERATIONS_TABLE);
  const iso = entry.at.toISOString();
  await client.createEntity({
    partitionKey: iso.slice(0, 10),
    // The high-resolution clock orders two calls of the same millisecond; the uuid keeps hosts apart.
    rowKey: `${iso}_${process.hrtime.bigint().toString().padStart(20, '0')}_${randomUUID()}`,
    at: iso,
    principal: entry.principal,
    authenticated: entry.authenticated,
    route: entry.route,
    method: entry.method,
    target: JSON.stringify(entry.target),
    status: entry.status,
    outcome: entry.outcome,
    ...(entry.problemType ? { problemType: entry.problemType } : {}),
    ...(entry.factId ? { factId: entry.factId } : {}),
    durationMs: Math.round(entry.durationMs),
    ...(entry.traceId ? { traceId: entry.traceId } : {}),
    ...(entry.invocationId ? { invocationId: entry.invocationId } : {}),
  });
}

/** The rows of one UTC day, oldest first (for tests and the audit trail). */
export async function readOperationLog(tables: Tables, day: Date): Promise<(Omit<OperationLogEntry, 'at' | 'target'> & { at: string; target: Record<string, string> })[]> {
  const client = await tables.table(OPERATIONS_TABLE);
  const partition = day.toISOString().slice(0, 10);
  const rows: { rowKey: string; row: Awaited<ReturnType<typeof readOperationLog>>[number] }[] = [];
  for await (const entity of client.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${partition}` } })) {
    rows.push({ rowKey: String(entity.rowKey), row: {
      at: String(entity.at),
      principal: String(entity.principal),
      authenticated: Boolean(entity.authenticated),
      route: String(entity.route),
      method: String(entity.method),
      target: JSON.parse(String(entity.target ?? '{}')) as Record<string, string>,
      status: Number(entity.status),
      outcome: entity.outcome as OperationOutcome,
      ...(entity.problemType ? { problemType: String(entity.problemType) } : {}),
      ...(entity.factId ? { factId: String(entity.factId) } : {}),
      durationMs: Number(entity.durationMs),
      ...(entity.traceId ? { traceId: String(entity.traceId) } : {}),
      ...(entity.invocationId ? { invocationId: String(entity.invocationId) } : {}),
    } });
  }
  return rows.sort((a, b) => (a.rowKey < b.rowKey ? -1 : a.rowKey > b.rowKey ? 1 : 0)).map((r) => r.row);
}
