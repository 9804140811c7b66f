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
 * An object given by what it is projected from: when `source` (a JSON value) equals what it was at
 * the scope's last round, that round's projection and fingerprint are reused instead of projecting
 * and hashing again (a quiet round over 5,000 rows costs one comparison per row). `source` must
 * hold everything the projection reads.
 */
export interface TrackedSource {
  id: string;
  source: unknown;
  project: () => TrackedObject;
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

function project(given: TrackedSource): Projection {
  const object = given.project();
  return { copy: copyJson(given.source), object, print: fingerprint([object.tracked ?? object.record, object.members ?? null]) };
}

export class DeltaLog {
  private tokens = new Map<string, TokenState>();
  private sessions = new Map<string, Session>();
  /** scope → the last round's projection of each `TrackedSource`, and the context they were made in. */
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
  begin(scope: string, current: Iterable<TrackedObject | TrackedSource>, token: string | undefined, entry: (change: DeltaChange) => unknown, latest = false, context = ''): Session | null {
    const before = token === undefined ? undefined : this.tokens.get(token);
    if (token !== undefined && (!before || before.scope !== scope)) return null;
    // A quiet round over thousands of objects allocates nothing per object: the projections, and
    // the map of what the client holds, stay those of the last round when nothing differs.
    const known = this.projections.get(scope);
    const reusable = known?.context === context ? known.byId : undefined;
    const objects: TrackedObject[] = [];
    const prints: string[] = [];
    const projected: (Projection | undefined)[] = [];
    let reused = 0;
    for (const given of current) {
      if ('project' in given) {
        const last = reusable?.get(given.id);
        const hit = last !== undefined && sameJson(given.source, last.copy);
        const projection = hit ? last : project(given);
        if (hit) reused++;
        objects.push(projection.object);
        prints.push(projection.print);
        projected.push(projection);
      } else {
        objects.push(given);
        prints.push(fingerprint([given.tracked ?? given.record, given.members ?? null]));
        projected.push(undefined);
      }
    }
    if (!(reusable && reused === objects.length && reused === reusable.size)) {
      const byId = new Map<string, Projection>();
      objects.forEach((object, i) => projected[i] && byId.set(object.id, projected[i]!));
      if (byId.size > 0) this.projections.set(scope, { context, byId });
    }
    const items: unknown[] = [];
    if (!latest) {
      let matched = 0;
      objects.forEach((object, i) => {
        const was = before?.seen.get(object.id);
        if (was) matched++;
        if (was?.print !== prints[i]) items.push(entry({ kind: 'changed', object, before: was }));
      });
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
