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
  /** scope → id → the last round's projection of a `TrackedSource`. */
  private projections = new Map<string, Map<string, Projection>>();

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
  begin(scope: string, current: Iterable<TrackedObject | TrackedSource>, token: string | undefined, entry: (change: DeltaChange) => unknown, latest = false): Session | null {
    const before = token === undefined ? undefined : this.tokens.get(token);
    if (token !== undefined && (!before || before.scope !== scope)) return null;
    const seen = new Map<string, Seen>();
    const items: unknown[] = [];
    const known = this.projections.get(scope);
    const projections = new Map<string, Projection>();
    for (const given of current) {
      let object: TrackedObject;
      let print: string;
      if ('project' in given) {
        const last = known?.get(given.id);
        const projection = last && sameJson(given.source, last.copy) ? last : project(given);
        projections.set(given.id, projection);
        ({ object, print } = projection);
      } else {
        object = given;
        print = fingerprint([object.tracked ?? object.record, object.members ?? null]);
      }
      seen.set(object.id, { print, members: object.members ? new Set(object.members) : undefined });
      const was = before?.seen.get(object.id);
      if (!latest && was?.print !== print) items.push(entry({ kind: 'changed', object, before: was }));
    }
    if (projections.size > 0) this.projections.set(scope, projections);
    if (before && !latest) for (const id of before.seen.keys()) if (!seen.has(id)) items.push(entry({ kind: 'removed', id }));
    const next = randomBytes(12).toString('base64url');
    // Nothing changed: the new token stands for what the old one did (one map per change, not per
    // token: a million users' fingerprints are ~100 MB, and a scope keeps several tokens).
    this.tokens.set(next, { scope, seen: before && items.length === 0 ? before.seen : seen });
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
