import type { SimContext } from '../core/context.js';
import type { FixtureEnvironment } from '../core/fixture.js';
import type { SimHandler, SimRequest, SimResponse } from '../core/host.js';
import { associateRole } from './associations.js';
import { businessUnitsEntity } from './business-units.js';
import { API, DataverseErrorCode, GUID, dvError, find, notFound, type Entities, type Entity } from './entity.js';
import { DataverseEnvironment } from './environment.js';
import { ODataQueryError, QUERY_ERROR_CODE } from './odata-query.js';
import { organizationsEntity, whoAmI } from './organizations.js';
import { changes, isChangeTracking } from './changes.js';
import { collection, single } from './query.js';
import { rolesEntity } from './roles.js';
import { createSystemUser, patchSystemUser, systemUsersEntity } from './systemusers.js';
import { systemUserRolesEntity } from './intersects.js';
import { teamsEntity } from './teams.js';

export { DataverseErrorCode } from './entity.js';
export { orgDbOrgSettingsXml } from './organizations.js';

/**
 * The Dataverse Web API v9.2 of one environment (`{instance}/api/data/v9.2/`): `systemusers`
 * (query, get, create an application user, update), `roles`, `teams`, `businessunits`,
 * `organizations`, the `systemuserroles_association` `$ref` and `WhoAmI`.
 *
 * Wire behaviour kept from the real service: `Prefer: odata.maxpagesize` (up to 5,000, larger values
 * ignored) answered with `Preference-Applied`; an absolute `@odata.nextLink` carrying a `$skiptoken`
 * paging cookie (the page size is not in the link: the client sends `Prefer` again); `$top` instead
 * of paging; the primary key always returned with `$select`; `@odata.etag` on every record (nested
 * ones too); `$skip` refused; errors as `{ "error": { "code": "0x…", "message" } }`.
 * Mutations change the environment of `ctx.state` in place. This file is the router; each table
 * has its own file, the query options theirs (`query.ts`).
 */

function entitiesOf(env: DataverseEnvironment): Entities {
  const entities = {} as Entities;
  entities.systemusers = systemUsersEntity(env, entities);
  entities.roles = rolesEntity(env, entities);
  entities.teams = teamsEntity(env, entities);
  entities.businessunits = businessUnitsEntity(env);
  entities.organizations = organizationsEntity(env);
  entities.systemuserrolescollection = systemUserRolesEntity(env);
  return entities;
}

const methodNotAllowed = (method: string) => dvError(405, QUERY_ERROR_CODE, `The requested resource does not support http method '${method}'.`);
const segmentNotFound = (segment: string) => dvError(404, DataverseErrorCode.segment, `Resource not found for the segment '${segment}'.`);

/** Dataverse for one environment of the fixture. */
export function createDataverseHandler(ctx: SimContext, environment: FixtureEnvironment): SimHandler {
  const env = new DataverseEnvironment(ctx, environment);
  const entities = entitiesOf(env);
  const bySet = entities as unknown as Record<string, Entity | undefined>;

  /** `{set}({key})…`: one record, or its navigation (`/$ref` for an association). */
  const recordRoute = (request: SimRequest, entity: Entity, key: string, navigation: string | undefined, ref: string | undefined): SimResponse => {
    if (!navigation) {
      if (request.method === 'GET') {
        const row = find(entity, key);
        return row ? single(env, request, entity, row) : notFound(entity, key);
      }
      if (request.method === 'PATCH' && entity === entities.systemusers) return patchSystemUser(env, entities, request, key);
      return methodNotAllowed(request.method);
    }
    const nav = entity.collections[navigation];
    if (!nav) return segmentNotFound(navigation);
    if (ref) {
      if (request.method === 'POST' && entity === entities.systemusers && navigation === 'systemuserroles_association') return associateRole(env, entities, request, key);
      return methodNotAllowed(request.method);
    }
    if (request.method !== 'GET') return methodNotAllowed(request.method);
    const row = find(entity, key);
    if (!row) return notFound(entity, key);
    return collection(env, request, nav.target(), nav.related(row), `${entity.set}(${key})/${navigation}`);
  };

  const route = (request: SimRequest): SimResponse => {
    if (!request.path.startsWith(`${API}/`)) return segmentNotFound(request.path.split('/').filter(Boolean)[0] ?? '');
    const rest = request.path.slice(API.length + 1);
    if (/^WhoAmI(\(\))?$/.test(rest)) return request.method === 'GET' ? whoAmI(env, request) : methodNotAllowed(request.method);
    const match = /^([A-Za-z_]\w*)(?:\(([^)]*)\))?(?:\/([A-Za-z_]\w*))?(\/\$ref)?$/.exec(rest);
    if (!match) return segmentNotFound(rest);
    const [, set, rawKey, navigation, ref] = match;
    const entity = bySet[set!];
    if (!entity) return segmentNotFound(set!);
    if (rawKey === undefined) {
      if (navigation || ref) return dvError(400, QUERY_ERROR_CODE, `Bad Request - Error in query syntax.`);
      if (request.method === 'GET') return isChangeTracking(request) ? changes(env, request, entity) : collection(env, request, entity, entity.rows(), entity.set);
      if (request.method === 'POST' && entity === entities.systemusers) return createSystemUser(env, entities, request);
      return methodNotAllowed(request.method);
    }
    const key = rawKey.trim().replace(/^\{|\}$/g, '');
    if (!GUID.test(key)) return dvError(400, QUERY_ERROR_CODE, `Bad Request - Error in query syntax: '${rawKey}' is not a valid key.`);
    return recordRoute(request, entity, key, navigation, ref);
  };

  return (request) => {
    try {
      return route(request);
    } catch (error) {
      if (error instanceof ODataQueryError) return dvError(error.status, error.code, error.message);
      throw error;
    }
  };
}
