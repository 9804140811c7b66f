import type { SimContext } from '../core/context.js';
import type { Fixture, FixtureGroup, FixtureUser } from '../core/fixture.js';
import { stableId } from '../core/ids.js';
import { eqi } from './protocol.js';
import { USER_PROPERTIES } from './properties.js';

/**
 * The directory the Graph simulator serves: `ctx.state.graph`, changed in place (a read after a
 * write sees the write), with the lookups, the object index and the membership walks every
 * resource uses, and the links Graph writes (`@odata.context`, the service root).
 */

export type Role = Fixture['graph']['directoryRoles'][number];
export type Sku = Fixture['graph']['subscribedSkus'][number];

export type DirectoryObject =
  | { kind: 'user'; record: FixtureUser }
  | { kind: 'group'; record: FixtureGroup }
  | { kind: 'role'; record: Role };

/** For tests: the id the simulator gives a directory role (stable across runs). */
export function simulatedRoleId(role: { roleTemplateId: string; id?: unknown }): string {
  return typeof role.id === 'string' ? role.id : stableId('directoryRole', role.roleTemplateId);
}

export class GraphDirectory {
  // Bumped by the writes that add or remove directory objects; a list replaced or resized from
  // outside (a test editing the state) is noticed by identity and length.
  private version = 0;
  private objectIndexCache: { key: unknown[]; index: Map<string, DirectoryObject> } | undefined;
  private userPropertiesCache: { version: number; users: unknown; length: number; list: string[] } | undefined;

  constructor(readonly ctx: SimContext) {}

  get graph(): Fixture['graph'] {
    return this.ctx.state.graph;
  }

  /** The service root, `https://…/v1.0`. */
  base(): string {
    return `${this.ctx.urls.graph}/v1.0`;
  }

  metadata(fragment: string): string {
    return `${this.base()}/$metadata#${fragment}`;
  }

  contextFor(entitySet: string, select: string[] | undefined, entity = false): string {
    return this.metadata(`${entitySet}${select ? `(${select.join(',')})` : ''}${entity ? '/$entity' : ''}`);
  }

  /** A write added or removed a directory object. */
  changed(): void {
    this.version++;
  }

  /**
   * R4 (SPEC §8, `faults.graph.replicationLagMs`): for that long after an object is created, reads
   * and writes naming it answer 404 `Request_ResourceNotFound`. "A successful write to Microsoft Entra
   * does not guarantee that an immediate read will reflect that change … it is normal for … a newly
   * created object to return a 'Not Found'" (devblogs.microsoft.com/identity/designing-for-eventual-consistency-for-microsoft-entra/);
   * the body is the one recorded for `members/$ref` with an unknown member (microsoftgraph/microsoft-graph-docs-contrib#5090).
   */
  replicating(id: string): boolean {
    const lag = this.ctx.faults.behaviour(['graph'], 'replicationLagMs') ?? 0;
    const created = this.ctx.events.createdAt.get(id.toLowerCase());
    return lag > 0 && created !== undefined && Date.now() - created < lag;
  }

  // ── lookups ──
  findUser(key: string): FixtureUser | undefined {
    return this.graph.users.find((u) => eqi(u.id, key) || eqi(u.userPrincipalName, key));
  }

  findGroup(id: string): FixtureGroup | undefined {
    return this.graph.groups.find((g) => eqi(g.id, id));
  }

  findRole(key: { key: string; alternate?: string }): Role | undefined {
    return this.graph.directoryRoles.find((r) =>
      key.alternate === undefined ? eqi(simulatedRoleId(r), key.key) : eqi(key.alternate, 'roleTemplateId') && eqi(r.roleTemplateId, key.key),
    );
  }

  findSku(skuId: string): Sku | undefined {
    return this.graph.subscribedSkus.find((s) => eqi(s.skuId, skuId));
  }

  /** Directory objects by id, built once per call (tenants of thousands of users). */
  objectIndex(): Map<string, DirectoryObject> {
    const graph = this.graph;
    // Records are indexed by id, which never changes: the index is rebuilt only when a list changes.
    const key = [this.version, graph.users, graph.users.length, graph.groups, graph.groups.length, graph.directoryRoles, graph.directoryRoles.length];
    if (this.objectIndexCache && this.objectIndexCache.key.every((k, i) => k === key[i])) return this.objectIndexCache.index;
    const index = new Map<string, DirectoryObject>();
    this.objectIndexCache = { key, index };
    for (const record of graph.users) index.set(record.id.toLowerCase(), { kind: 'user', record });
    for (const record of graph.groups) index.set(record.id.toLowerCase(), { kind: 'group', record });
    for (const record of graph.directoryRoles) index.set(simulatedRoleId(record).toLowerCase(), { kind: 'role', record });
    return index;
  }

  objectId(o: DirectoryObject): string {
    return o.kind === 'role' ? simulatedRoleId(o.record) : o.record.id;
  }

  resolveAll(ids: readonly string[]): DirectoryObject[] {
    let index = this.objectIndex();
    // A test or a bench night may change the lists in place and keep their lengths: an id the
    // index does not know is looked up again in a fresh one, never silently left out.
    if (ids.some((id) => !index.has(id.toLowerCase()))) {
      this.objectIndexCache = undefined;
      index = this.objectIndex();
    }
    return ids.map((id) => index.get(id.toLowerCase())).filter((o): o is DirectoryObject => !!o);
  }

  // ── membership ──
  /** Groups and roles whose `members` holds the id (direct). */
  containersOf(id: string): DirectoryObject[] {
    return [
      ...this.graph.groups.filter((g) => g.members.some((m) => eqi(m, id))).map((record) => ({ kind: 'group', record }) as DirectoryObject),
      ...this.graph.directoryRoles.filter((r) => r.members.some((m) => eqi(m, id))).map((record) => ({ kind: 'role', record }) as DirectoryObject),
    ];
  }

  /** Containers through nesting: a group's containers are the member's containers too. */
  transitiveContainersOf(id: string): DirectoryObject[] {
    const seen = new Map<string, DirectoryObject>();
    const queue = [id];
    while (queue.length > 0) {
      const current = queue.shift()!;
      for (const container of this.containersOf(current)) {
        const cid = this.objectId(container).toLowerCase();
        if (seen.has(cid)) continue;
        seen.set(cid, container);
        if (container.kind === 'group') queue.push(container.record.id);
      }
    }
    return [...seen.values()];
  }

  transitiveMembersOf(group: FixtureGroup): string[] {
    const index = this.objectIndex();
    const seen = new Set<string>();
    const out: string[] = [];
    const queue = [...group.members];
    while (queue.length > 0) {
      const id = queue.shift()!;
      if (seen.has(id.toLowerCase())) continue;
      seen.add(id.toLowerCase());
      out.push(id);
      const object = index.get(id.toLowerCase());
      if (object?.kind === 'group') queue.push(...object.record.members);
    }
    return out;
  }

  /**
   * Every property a user may have: Graph's, and the extra ones fixture users carry. They are known
   * once the users are (writes only set known ones), so the list is computed again only when the
   * user list changes.
   */
  userProperties(): string[] {
    const users = this.graph.users;
    const cache = this.userPropertiesCache;
    if (cache && cache.version === this.version && cache.users === users && cache.length === users.length) return cache.list;
    const extra = new Set<string>();
    for (const u of users) for (const k of Object.keys(u)) extra.add(k);
    const list = [...new Set<string>([...USER_PROPERTIES, ...extra])];
    this.userPropertiesCache = { version: this.version, users, length: users.length, list };
    return list;
  }
}
