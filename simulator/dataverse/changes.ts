import type { DeltaChange } from '../core/delta.js';
import type { SimRequest, SimResponse } from '../core/host.js';
import { json } from '../core/host.js';
import { DataverseErrorCode, ODATA_VERSION, dvError, type Entity, type Row } from './entity.js';
import type { DataverseEnvironment } from './environment.js';
import { QUERY_ERROR_CODE, parseSelect } from './odata-query.js';
import { checkSelect, pageSizePreference, shape } from './query.js';

/**
 * Dataverse change tracking through the Web API (learn.microsoft.com/power-apps/developer/data-platform/
 * use-change-tracking-synchronize-data-external-systems, "Retrieve changes in tables using the Web
 * API"; Learn training "Track entity data changes with change tracking and the Web API"):
 * - `Prefer: odata.track-changes` on a query of a table returns every row (the initial
 *   synchronisation) and, on the last page, `@odata.deltaLink`: the query with a `$deltatoken`;
 * - the delta link, requested again with the same preference, returns the rows created or changed
 *   since, and each deleted row as `{ "@odata.context": "…$metadata#{set}/$deletedEntity", "id",
 *   "reason": "deleted" }`;
 * - only `$select` goes with it (the simulator refuses `$expand`, `$filter`, `$orderby` and `$top`
 *   there: a related collection's changes are its intersect table's, see intersects.ts);
 * - pages follow `Prefer: odata.maxpagesize` with `@odata.nextLink`;
 * - a token older than the organization keeps change data answers ExpiredVersionStamp
 *   (`0x80044352`, "Version stamp associated with the client has expired. Please perform a full
 *   sync.", the code the SDK's RetrieveEntityChanges callers catch); the fixture fault
 *   `deltaTokenExpired` (scope `dataverse` or the environment id) expires every token on demand.
 */

const TRACK_CHANGES = /odata\.track-changes/i;
const NOT_WITH_TRACKING = ['$expand', '$filter', '$orderby', '$top', '$count'];

const preferHeader = (request: SimRequest) => {
  const header = request.headers.prefer;
  return Array.isArray(header) ? header.join(',') : header ?? '';
};

export const isChangeTracking = (request: SimRequest) => TRACK_CHANGES.test(preferHeader(request)) || request.url.searchParams.has('$deltatoken');

const expired = () =>
  dvError(400, DataverseErrorCode.expiredVersionStamp, 'Version stamp associated with the client has expired. Please perform a full sync.');

function link(env: DataverseEnvironment, entity: Entity, params: URLSearchParams, key: '$deltatoken' | '$skiptoken', value: string): string {
  const query = [...params.entries()].filter(([name]) => name !== '$deltatoken' && name !== '$skiptoken').map(([name, v]) => `${name}=${encodeURIComponent(v)}`);
  query.push(`${key}=${encodeURIComponent(value)}`);
  return `${env.api()}/${entity.set}?${query.join('&')}`;
}

export function changes(env: DataverseEnvironment, request: SimRequest, entity: Entity): SimResponse {
  const params = request.url.searchParams;
  for (const name of NOT_WITH_TRACKING) {
    if (params.has(name)) return dvError(400, QUERY_ERROR_CODE, `The query parameter ${name} is not supported with change tracking.`);
  }
  const select = parseSelect(params.get('$select'));
  checkSelect(entity, select);
  const deltas = env.ctx.deltas;
  const size = pageSizePreference(request) ?? env.ctx.paging.dataverseDefault;
  const headers: Record<string, string> = { ...ODATA_VERSION, 'Preference-Applied': 'odata.track-changes' };
  const api = env.api();
  let page;
  const skip = params.get('$skiptoken');
  if (skip !== null) {
    page = deltas.page(skip, size);
    if (!page) return expired();
  } else {
    const token = params.get('$deltatoken') ?? undefined;
    if (token !== undefined && env.ctx.faults.behaviour(['dataverse', env.environment.id], 'deltaTokenExpired')) return expired();
    const scope = `dataverse:${env.environment.id}:${entity.set}:${(select ?? []).join(',')}`;
    const entry = (change: DeltaChange): Row =>
      change.kind === 'removed' ? { '@odata.context': `${api}/$metadata#${entity.set}/$deletedEntity`, id: change.id, reason: 'deleted' } : change.object.record;
    // What a row's answer is made of: the row, and the root business unit (a row without its own
    // answers the root's, see environment.ts), the context of every row's projection.
    const session = deltas.beginProjected(
      scope,
      entity.rows(),
      {
        idOf: (row) => String(entity.value(row, entity.key)),
        project: (row) => {
          const record = shape(env, entity, row, select, []);
          const { ['@odata.etag']: _etag, ...tracked } = record;
          return { id: String(entity.value(row, entity.key)), record, tracked };
        },
        context: env.rootBusinessUnitId(),
      },
      token,
      entry,
    );
    if (!session) return expired();
    page = deltas.page(session, size)!;
  }
  const body: Row = { '@odata.context': `${api}/$metadata#${entity.set}${select ? `(${select.join(',')})` : ''}/$delta`, value: page.items };
  if (page.session) body['@odata.nextLink'] = link(env, entity, params, '$skiptoken', page.session);
  else body['@odata.deltaLink'] = link(env, entity, params, '$deltatoken', page.token!);
  return json(200, body, headers);
}
