import type { Tables } from '../../../lib/gateways/storage/tables.js';

/**
 * Table Storage in memory, with the semantics the HTTP pipeline relies on: create-if-absent (409),
 * ETag-guarded replace (412), 404 on a missing entity. For unit tests only; the e2e suites use Azurite.
 */

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string };

const restError = (statusCode: number) => Object.assign(new Error(`status ${statusCode}`), { statusCode });

export class MemoryTable {
  readonly rows = new Map<string, { entity: Entity; etag: string }>();
  private version = 0;
  /** Set to make every call fail like an unreachable storage account. */
  failWith: number | undefined;

  private key(pk: string, rk: string) {
    return `${pk}\u0000${rk}`;
  }
  private check() {
    if (this.failWith !== undefined) throw restError(this.failWith);
  }
  async getEntity<T>(pk: string, rk: string): Promise<T & { etag: string }> {
    this.check();
    const row = this.rows.get(this.key(pk, rk));
    if (!row) throw restError(404);
    return { ...structuredClone(row.entity), etag: row.etag } as unknown as T & { etag: string };
  }
  async createEntity(entity: Entity) {
    this.check();
    const key = this.key(entity.partitionKey, entity.rowKey);
    if (this.rows.has(key)) throw restError(409);
    this.rows.set(key, { entity: structuredClone(entity), etag: `W/"${++this.version}"` });
    return {};
  }
  async updateEntity(entity: Entity, _mode: string, options: { etag?: string } = {}) {
    this.check();
    const key = this.key(entity.partitionKey, entity.rowKey);
    const row = this.rows.get(key);
    if (!row) throw restError(404);
    if (options.etag && options.etag !== '*' && options.etag !== row.etag) throw restError(412);
    this.rows.set(key, { entity: structuredClone(entity), etag: `W/"${++this.version}"` });
    return {};
  }
  async upsertEntity(entity: Entity) {
    this.check();
    this.rows.set(this.key(entity.partitionKey, entity.rowKey), { entity: structuredClone(entity), etag: `W/"${++this.version}"` });
    return {};
  }
  async deleteEntity(pk: string, rk: string) {
    this.check();
    if (!this.rows.delete(this.key(pk, rk))) throw restError(404);
    return {};
  }
  async *listEntities<T>(): AsyncIterable<T> {
    this.check();
    for (const { entity } of this.rows.values()) yield structuredClone(entity) as T;
  }
  entities(): Entity[] {
    return [...this.rows.values()].map((r) => r.entity);
  }
}

export class MemoryTables {
  readonly tables = new Map<string, MemoryTable>();
  get(name: string): MemoryTable {
    let table = this.tables.get(name);
    if (!table) this.tables.set(name, (table = new MemoryTable()));
    return table;
  }
  async table(name: string) {
    return this.get(name);
  }
  asTables(): Tables {
    return this as unknown as Tables;
  }
}
