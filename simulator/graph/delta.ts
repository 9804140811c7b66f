import type { DeltaChange, DeltaPage } from '../core/delta.js';
import type { SimResponse } from '../core/host.js';
import type { GraphDirectory } from './directory.js';
import { GraphFault, badRequest, parseFilter, parseSelect, unsupportedQuery, type FilterNode } from './odata.js';
import { projectGroup, projectUser, userSelect } from './projection.js';
import { TYPE_NAMES } from './properties.js';
import { eqi, ok, type Call, type Json } from './protocol.js';

/**
 * Graph delta query, `/users/delta` and `/groups/delta` (learn.microsoft.com/graph/delta-query-overview,
 * /graph/api/user-delta, /graph/api/group-delta, /graph/delta-query-users):
 * - the first request (no state token) answers every object in pages linked by `@odata.nextLink`
 *   (a `$skiptoken`); the last page carries `@odata.deltaLink` (a `$deltatoken`). The links repeat
 *   the query of the first request ("query parameters … are automatically included in future
 *   requests"), so the client sends them as they are;
 * - a `$deltatoken` request answers the objects created or changed since (with the selected
 *   properties) and the deleted ones as `{ id, "@removed": { "reason": "changed" } }` (a user deleted
 *   to the recycle bin; "deleted" when permanently);
 * - `$deltatoken=latest` answers no object, only a `@odata.deltaLink` for the changes from now on;
 * - groups with `members` selected report membership changes in `members@delta`: every member on
 *   the first round, then only those added and those removed (with `@removed`);
 *   `$filter=id eq '…' or id eq '…'` limits the groups tracked (at most 50 ids);
 * - a token the service no longer knows answers `410 Gone` with code `resyncRequired`: the client
 *   starts again without a token (the overview's "Synchronization reset" case; directory tokens
 *   are kept 7 days). The fixture fault `deltaTokenExpired` (scope `graph`) refuses every token.
 * `signInActivity` and `licenseAssignmentStates` are not tracked (SPEC §9): a change to them alone
 * produces no entry.
 */

/** `delta` or its fully qualified name `microsoft.graph.delta` (the SDKs' form), called with or without `()`. */
export const isDelta = (segment: unknown) => typeof segment === 'string' && /^(microsoft\.graph\.)?delta(\(\))?$/.test(segment);

const UNTRACKED = new Set(['signInActivity', 'licenseAssignmentStates']);
const MAX_FILTER_IDS = 50;

function resyncRequired(): GraphFault {
  return new GraphFault(410, 'resyncRequired', 'Resync required. Replace any local cached copy of the data with a fresh sync, then use the new delta link.');
}

/** The delta links of a round: the original query's options with a state token. */
function roundLink(dir: GraphDirectory, path: string, call: Call, key: '$skiptoken' | '$deltatoken', value: string): string {
  const parts: string[] = [];
  for (const [name, v] of call.query) if (name !== '$skiptoken' && name !== '$deltatoken') parts.push(`${name}=${encodeURIComponent(v)}`);
  parts.push(`${key}=${value}`);
  return `${dir.base()}${path}?${parts.join('&')}`;
}

/** `Prefer: odata.maxpagesize` (the delta function pages by the service; at most the collection maximum). */
function preferredPageSize(dir: GraphDirectory, call: Call): number {
  const match = /odata\.maxpagesize\s*=\s*(\d+)/i.exec(call.headers['prefer'] ?? '');
  const size = match ? Number.parseInt(match[1]!, 10) : dir.ctx.paging.graphDefault;
  return Math.max(1, Math.min(size, dir.ctx.paging.graphMax));
}

function answer(dir: GraphDirectory, call: Call, path: string, context: string, page: DeltaPage): SimResponse {
  const body: Json = { '@odata.context': context };
  if (page.session) body['@odata.nextLink'] = roundLink(dir, path, call, '$skiptoken', page.session);
  else body['@odata.deltaLink'] = roundLink(dir, path, call, '$deltatoken', page.token!);
  body.value = page.items;
  return ok(200, body);
}

/** One request of a round: the next page of a session, or a new round from a token (or none). */
function deltaRound(
  dir: GraphDirectory,
  call: Call,
  path: string,
  context: string,
  start: (token: string | undefined, latest: boolean) => ReturnType<GraphDirectory['ctx']['deltas']['begin']>,
): SimResponse {
  const deltas = dir.ctx.deltas;
  const size = preferredPageSize(dir, call);
  const skip = call.query.get('$skiptoken');
  if (skip !== null) {
    const page = deltas.page(skip, size);
    if (!page) throw resyncRequired();
    return answer(dir, call, path, context, page);
  }
  const token = call.query.get('$deltatoken') ?? undefined;
  const latest = token === 'latest';
  if (token !== undefined && !latest && dir.ctx.faults.behaviour(['graph'], 'deltaTokenExpired')) throw resyncRequired();
  const session = start(latest ? undefined : token, latest);
  if (!session) throw resyncRequired();
  return answer(dir, call, path, context, deltas.page(session, size)!);
}

const removedEntry = (type: string, id: string, reason: 'changed' | 'deleted'): Json => ({ '@odata.type': type, id, '@removed': { reason } });

export function usersDelta(dir: GraphDirectory, call: Call): SimResponse {
  const select = parseSelect(call.query);
  const properties = userSelect(dir, select);
  if (!properties.includes('id')) properties.unshift('id');
  const scope = `graph:users:${properties.join(',')}`;
  const entry = (change: DeltaChange) => (change.kind === 'removed' ? removedEntry(TYPE_NAMES.user, change.id, 'changed') : change.object.record);
  return deltaRound(dir, call, '/users/delta', `${dir.contextFor('users', select)}/$delta`, (token, latest) =>
    dir.ctx.deltas.beginProjected(
      scope,
      dir.graph.users,
      {
        idOf: (user) => user.id,
        project: (user) => {
          const record = projectUser(user, properties);
          const tracked = Object.fromEntries(Object.entries(record).filter(([key]) => !UNTRACKED.has(key)));
          return { id: user.id, record, tracked };
        },
      },
      token,
      entry,
      latest,
    ),
  );
}

/** The ids of `$filter=id eq '…' or id eq '…'`, the only filter group delta takes. */
function filteredIds(filter: FilterNode | undefined): Set<string> | undefined {
  if (!filter) return undefined;
  const ids = new Set<string>();
  const walk = (node: FilterNode): void => {
    if (node.kind === 'or') return (walk(node.left), walk(node.right));
    if (node.kind === 'compare' && node.op === 'eq' && eqi(node.property, 'id') && typeof node.value === 'string') return void ids.add(node.value.toLowerCase());
    throw unsupportedQuery('Unsupported query.');
  };
  walk(filter);
  if (ids.size > MAX_FILTER_IDS) throw badRequest(`The number of ids in the filter exceeds the maximum of ${MAX_FILTER_IDS}.`);
  return ids;
}

export function groupsDelta(dir: GraphDirectory, call: Call): SimResponse {
  const select = parseSelect(call.query) ?? ['displayName', 'members'];
  const withMembers = select.some((s) => eqi(s, 'members'));
  const plain = select.filter((s) => !eqi(s, 'members'));
  const raw = call.query.get('$filter');
  const ids = filteredIds(raw === null ? undefined : parseFilter(raw));
  const scope = `graph:groups:${select.join(',')}:${[...(ids ?? [])].sort().join(',')}`;
  const typeOf = (id: string) => {
    const object = dir.objectIndex().get(id.toLowerCase());
    return object ? TYPE_NAMES[object.kind] : TYPE_NAMES.user;
  };
  const entry = (change: DeltaChange): Json => {
    if (change.kind === 'removed') return removedEntry(TYPE_NAMES.group, change.id, 'deleted');
    const record: Json = { ...change.object.record };
    if (withMembers) {
      const now = change.object.members ?? [];
      const before = change.before?.members;
      const added = now.filter((m) => !before?.has(m)).map((m) => ({ '@odata.type': typeOf(m), id: m }));
      const removed = before ? [...before].filter((m) => !now.includes(m)).map((m) => ({ '@odata.type': typeOf(m), id: m, '@removed': { reason: 'deleted' } })) : [];
      record['members@delta'] = [...added, ...removed];
    }
    return record;
  };
  return deltaRound(dir, call, '/groups/delta', `${dir.contextFor('groups', select)}/$delta`, (token, latest) =>
    dir.ctx.deltas.begin(
      scope,
      dir.graph.groups
        .filter((g) => !ids || ids.has(g.id.toLowerCase()))
        // Members as `/groups/{id}/members` lists them: objects that exist (a deleted user leaves its groups).
        .map((group) => ({
          id: group.id,
          record: { id: group.id, ...projectGroup(group, plain) },
          members: withMembers ? dir.resolveAll(group.members).map((o) => dir.objectId(o)) : undefined,
        })),
      token,
      entry,
      latest,
    ),
  );
}
