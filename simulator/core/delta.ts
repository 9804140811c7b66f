import { createHash, randomBytes } from 'node:crypto';

/**
 * The change log behind both delta protocols the simulator serves (Graph delta query, Dataverse
 * change tracking). A token stands for what its client has seen: a fingerprint of every object of
 * the tracked collection (in the projection the client asked for) when the token was issued. A
 * request with a token answers what differs now: objects whose fingerprint changed or that are new,
 * and those no longer there (removed). Comparing against the state rather than recording each
 * write means every mutation shows, whatever made it: the APIs, a test or a bench "night" changing
 * `sim.state` directly.
 *
 * A round's answer is paged: the change list is computed once, at the round's first request, and
 * served from a session (Graph: `$skiptoken` links, Dataverse: `@odata.nextLink`); the new token is
 * written on the last page only (`@odata.deltaLink`), as both services do.
 *
 * Tokens expire: the oldest tokens of a scope are forgotten beyond `maxTokensPerScope` (both
 * services forget sync state after a while: Graph answers 410 Gone, Dataverse an expired-token
 * error), and a fixture fault (`deltaTokenExpired`) refuses every token of a scope on demand.
 */

export interface TrackedObject {
  id: string;
  /** The object as the client would receive it. */
  record: Record<string, unknown>;
  /** What a change is detected on, when not the whole record (properties a protocol does not track are left out). */
  tracked?: unknown;
  /** Members of the object (a group's `members`), whose additions and removals a round reports one by one. */
  members?: readonly string[];
}

/**
 * How the objects of a collection are made from the state they are projected from. When a source
 * (a JSON value) equals what it was at the scope's last round, and `context` too, that round's
 * projection and fingerprint are reused instead of projecting and hashing again (a quiet round
 * over 5,000 rows costs one comparison per row, and allocates nothing per row). A source must hold
 * everything its projection reads but `context`, which holds what every projection of the round reads.
 */
export interface Projector<S> {
  idOf(source: S): string;
  project(source: S): TrackedObject;
  context?: string;
}

interface Projection {
  /** A copy of the source as it was projected. */
  copy: unknown;
  object: TrackedObject;
  print: string;
}

/** A deep copy of a JSON value (cheaper than structuredClone for small records). */
function copyJson(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyJson);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copyJson((value as Record<string, unknown>)[key]);
  return out;
}

/** Deep equality of JSON values (a comparison allocates nothing, unlike serialising both). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (!sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  return true;
}

/** What a round reports of one object: changed (or new, when `before` is undefined), or removed. */
export type DeltaChange =
  | { kind: 'changed'; object: TrackedObject; before: { members?: ReadonlySet<string> } | undefined }
  | { kind: 'removed'; id: string };

interface Seen {
  print: string;
  members?: ReadonlySet<string>;
}

interface TokenState {
  scope: string;
  /** id → what the client holds of it. */
  seen: Map<string, Seen>;
}

interface Session {
  items: unknown[];
  offset: number;
  token: string;
}

export interface DeltaPage {
  items: unknown[];
  /** Set while more pages follow. */
  session?: string;
  /** Set on the last page: the token of the next round. */
  token?: string;
}

const fingerprint = (record: unknown) => createHash('sha1').update(JSON.stringify(record)).digest('base64');


export class DeltaLog {
  private tokens = new Map<string, TokenState>();
  private sessions = new Map<string, Session>();
  /** scope → the last round's projection of each source (`beginProjected`), and the context they were made in. */
  private projections = new Map<string, { context: string; byId: Map<string, Projection> }>();

  constructor(private readonly maxTokensPerScope = 16) {}

  /** Whether the token is one this log issued and still remembers. */
  knows(token: string): boolean {
    return this.tokens.has(token);
  }

  /**
   * Starts a round: every object when `token` is undefined (the initial synchronisation), else what
   * changed since `token`, each written by `entry`; `latest` issues a token and reports nothing
   * (Graph's `$deltatoken=latest`). Null when the token is unknown or expired.
   */
  begin(scope: string, current: Iterable<TrackedObject>, token: string | undefined, entry: (change: DeltaChange) => unknown, latest = false): Session | null {
    const before = this.before(scope, token);
    if (before === null) return null;
    const objects = [...current];
    return this.round(scope, before, objects, objects.map((o) => fingerprint([o.tracked ?? o.record, o.members ?? null])), entry, latest);
  }

  /** `begin` over objects made by `projector` from `sources`, the unchanged ones as the last round made them. */
  beginProjected<S>(scope: string, sources: readonly S[], projector: Projector<S>, token: string | undefined, entry: (change: DeltaChange) => unknown, latest = false): Session | null {
    const before = this.before(scope, token);
    if (before === null) return null;
    const context = projector.context ?? '';
    const known = this.projections.get(scope);
    const reusable = known?.context === context ? known.byId : undefined;
    const objects: TrackedObject[] = new Array(sources.length);
    const prints: string[] = new Array(sources.length);
    let byId: Map<string, Projection> | undefined;
    for (let i = 0; i < sources.length; i++) {
      const source = sources[i]!;
      const id = projector.idOf(source);
      let projection = reusable?.get(id);
      if (!projection || !sameJson(source, projection.copy)) {
        const object = projector.project(source);
        projection = { copy: copyJson(source), object, print: fingerprint([object.tracked ?? object.record, object.members ?? null]) };
        // The first object that differs starts this round's own map, with the ones before it.
        if (!byId) {
          byId = new Map();
          for (let j = 0; j < i; j++) byId.set(objects[j]!.id, reusable!.get(objects[j]!.id)!);
        }
      }
      byId?.set(id, projection);
      objects[i] = projection.object;
      prints[i] = projection.print;
    }
    // Every object as the last round made it, and as many: the last round's map stands.
    if (byId || !reusable || reusable.size !== sources.length) {
      if (!byId) {
        byId = new Map();
        for (const object of objects) byId.set(object.id, reusable!.get(object.id)!);
      }
      this.projections.set(scope, { context, byId });
    }
    return this.round(scope, before, objects, prints, entry, latest);
  }

  /** What `token` stands for: undefined without one, null when it is unknown or of another scope. */
  private before(scope: string, token: string | undefined): TokenState | undefined | null {
    if (token === undefined) return undefined;
    const before = this.tokens.get(token);
    return before && before.scope === scope ? before : null;
  }

  private round(scope: string, before: TokenState | undefined, objects: TrackedObject[], prints: string[], entry: (change: DeltaChange) => unknown, latest: boolean): Session {
    const items: unknown[] = [];
    if (!latest) {
      let matched = 0;
      for (let i = 0; i < objects.length; i++) {
        const object = objects[i]!;
        const was = before?.seen.get(object.id);
        if (was) matched++;
        if (was?.print !== prints[i]) items.push(entry({ kind: 'changed', object, before: was }));
      }
      if (before && matched < before.seen.size) {
        const ids = new Set(objects.map((o) => o.id));
        for (const id of before.seen.keys()) if (!ids.has(id)) items.push(entry({ kind: 'removed', id }));
      }
    }
    const next = randomBytes(12).toString('base64url');
    // Nothing changed: the new token stands for what the old one did (one map per change, not per
    // token: a million users' fingerprints are ~100 MB, and a scope keeps several tokens).
    let seen = before && !latest && items.length === 0 ? before.seen : undefined;
    if (!seen) {
      seen = new Map<string, Seen>();
      for (let i = 0; i < objects.length; i++) seen.set(objects[i]!.id, { print: prints[i]!, members: objects[i]!.members ? new Set(objects[i]!.members) : undefined });
    }
    this.tokens.set(next, { scope, seen });
    this.forgetOldest(scope);
    return { items, offset: 0, token: next };
  }

  /** The next page of a round (`session` from `begin` or a previous page). */
  page(session: Session | string, size: number): DeltaPage | null {
    const open = typeof session === 'string' ? this.sessions.get(session) : session;
    if (!open) return null;
    if (typeof session === 'string') this.sessions.delete(session);
    const items = open.items.slice(open.offset, open.offset + size);
    const offset = open.offset + size;
    if (offset >= open.items.length) return { items, token: open.token };
    const key = randomBytes(12).toString('base64url');
    this.sessions.set(key, { ...open, offset });
    return { items, session: key };
  }

  /** Forgets every token of a scope (the `deltaTokenExpired` fault, or a test). */
  expire(scope: string): void {
    for (const [token, state] of this.tokens) if (state.scope === scope) this.tokens.delete(token);
  }

  private forgetOldest(scope: string): void {
    const ofScope = [...this.tokens].filter(([, state]) => state.scope === scope);
    for (const [token] of ofScope.slice(0, Math.max(0, ofScope.length - this.maxTokensPerScope))) this.tokens.delete(token);
  }
}
