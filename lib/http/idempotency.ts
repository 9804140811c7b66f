import { createHash } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { statusOf, toStorageError } from '../gateways/storage/errors.js';
import type { Tables } from '../gateways/storage/tables.js';
import type { ApiResponse } from './api.js';

/**
 * `Idempotency-Key` for mutations (SPEC §4): the first answer to a key is kept in Table Storage
 * (table `idempotency`) until it expires (setting STEWARD_IDEMPOTENCY_TTL_HOURS); a replay with the
 * same key returns it and changes nothing. A replay whose request differs from the first is refused
 * (422), and a second call while the first is still running is told to wait (409).
 *
 * U1: a temporary password is never stored. The kept answer has it removed, and the replay says it
 * was shown only once.
 */

export const IDEMPOTENCY_TABLE = 'idempotency';

/** A claim older than this is taken as abandoned (the host died mid-call) and may be taken over. */
const PENDING_LEASE_MS = 2 * 60_000;
const ROW_KEY = 'answer';

export const PASSWORD_SHOWN_ONCE_NOTICE =
  'The temporary password was returned only in the first answer to this Idempotency-Key and is not kept anywhere (U1). ' +
  'If it was lost, reset the password.';

export interface IdempotencyScope {
  route: string;
  /** Keys are the caller's: the same key from two callers never shares an answer. */
  principal: string;
  key: string;
}

export type IdempotencyClaim =
  | { kind: 'first'; commit(response: ApiResponse): Promise<void>; release(): Promise<void> }
  | { kind: 'replay'; response: ApiResponse }
  | { kind: 'mismatch' }
  | { kind: 'in-progress' };

interface StoredEntity {
  partitionKey: string;
  rowKey: string;
  route: string;
  requestHash: string;
  state: 'pending' | 'done';
  claimedAt: string;
  expiresAt: string;
  status?: number;
  headers?: string;
  body?: string;
  passwordWithheld?: boolean;
}

/** Table keys refuse `/ \ # ?` and control characters: the key is stored as a hash only. */
export function idempotencyPartitionKey(scope: IdempotencyScope): string {
  return createHash('sha256').update(`${scope.route}\n${scope.principal}\n${scope.key}`).digest('hex');
}

/** JSON with sorted keys, so `{a,b}` and `{b,a}` are the same request. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function requestHash(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request)).digest('hex');
}

/** The answer with its secret fields removed (U1), and whether anything was removed. */
export function withoutSecrets(body: unknown, secretFields: readonly string[]): { body: unknown; withheld: boolean } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { body, withheld: false };
  const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  let withheld = false;
  for (const field of secretFields) {
    if (field in copy) {
      delete copy[field];
      withheld = true;
    }
  }
  return { body: copy, withheld };
}

const storageError = (operation: string, cause: unknown) => toStorageError(`${operation} ${IDEMPOTENCY_TABLE}`, cause);

export class IdempotencyStore {
  constructor(
    private readonly tables: Tables,
    private readonly now: () => Date,
    private readonly ttlHours: number,
  ) {}

  private async read(client: TableClient, partitionKey: string): Promise<(StoredEntity & { etag: string }) | null> {
    try {
      return (await client.getEntity<StoredEntity>(partitionKey, ROW_KEY)) as StoredEntity & { etag: string };
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw storageError('getEntity', error);
    }
  }

  /**
   * Claims the key for this request, or says why not. The claim is a `pending` row written with
   * create-if-absent (or an ETag-guarded replace of an expired row), so two concurrent calls with
   * the same key never both run.
   */
  async claim(scope: IdempotencyScope, hash: string, secretFields: readonly string[]): Promise<IdempotencyClaim> {
    const client = await this.tables.table(IDEMPOTENCY_TABLE);
    const partitionKey = idempotencyPartitionKey(scope);
    const now = this.now();
    const fresh: StoredEntity = {
      partitionKey,
      rowKey: ROW_KEY,
      route: scope.route,
      requestHash: hash,
      state: 'pending',
      claimedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.ttlHours * 3600_000).toISOString(),
    };

    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await this.read(client, partitionKey);
      const usable =
        existing &&
        Date.parse(existing.expiresAt) > now.getTime() &&
        !(existing.state === 'pending' && Date.parse(existing.claimedAt) + PENDING_LEASE_MS < now.getTime());
      if (existing && usable) {
        if (existing.requestHash !== hash) return { kind: 'mismatch' };
        if (existing.state === 'pending') return { kind: 'in-progress' };
        return { kind: 'replay', response: this.replay(existing) };
      }
      try {
        if (existing) await client.updateEntity(fresh, 'Replace', { etag: existing.etag });
        else await client.createEntity(fresh);
      } catch (error) {
        // Someone claimed it between our read and our write: read again and answer from theirs.
        if (statusOf(error) === 409 || statusOf(error) === 412) continue;
        throw storageError(existing ? 'updateEntity' : 'createEntity', error);
      }
      return {
        kind: 'first',
        commit: async (response) => {
          const { body, withheld } = withoutSecrets(response.body, secretFields);
          const done: StoredEntity = {
            ...fresh,
            state: 'done',
            status: response.status,
            headers: JSON.stringify(response.headers ?? {}),
            body: body === undefined ? '' : JSON.stringify(body),
            passwordWithheld: withheld,
          };
          try {
            await client.upsertEntity(done, 'Replace');
          } catch (error) {
            throw storageError('upsertEntity', error);
          }
        },
        release: async () => {
          try {
            await client.deleteEntity(partitionKey, ROW_KEY);
          } catch (error) {
            if (statusOf(error) !== 404) throw storageError('deleteEntity', error);
          }
        },
      };
    }
    return { kind: 'in-progress' };
  }

  private replay(entity: StoredEntity): ApiResponse {
    const headers = { ...(JSON.parse(entity.headers ?? '{}') as Record<string, string>), 'idempotent-replayed': 'true' };
    let body: unknown = entity.body ? JSON.parse(entity.body) : undefined;
    if (entity.passwordWithheld && body && typeof body === 'object') {
      body = { ...(body as Record<string, unknown>), temporaryPasswordNotice: PASSWORD_SHOWN_ONCE_NOTICE };
    }
    return { status: entity.status ?? 200, headers, body };
  }
}
