import type { SimContext } from '../core/context.js';
import type { SimHandler, SimResponse } from '../core/host.js';
import { batch } from './batch.js';
import { GraphDirectory } from './directory.js';
import { groupsRoute } from './groups.js';
import { skusRoute } from './licenses.js';
import { GraphFault, graphError, segmentNotFound } from './odata.js';
import { lowerHeaders, nameOf, segmentText, splitPath, type Call, type Segment } from './protocol.js';
import { roleManagementRoute } from './role-assignments.js';
import { directoryObjectsRoute, rolesRoute } from './roles.js';
import { usersRoute } from './users.js';

export { simulatedRoleId } from './directory.js';

/**
 * Microsoft Graph v1.0, as far as Steward uses it: users (list, get, create, update, delete,
 * assignLicense, memberOf, transitiveMemberOf), subscribedSkus, groups (members and owners, with
 * `$ref` writes), directoryRoles and JSON batching. Answers use Graph's wire shapes: `@odata.context`,
 * `value`, absolute `@odata.nextLink` with a `$skiptoken`, `@odata.type` on directory objects, and
 * `{ error: { code, message, innerError } }` errors with the service's own codes and messages.
 *
 * State is `ctx.state.graph`, changed in place: a read after a write sees the write. This file is
 * the router; each resource has its own (users, groups, roles, licenses, batch).
 */

export function createGraphHandler(ctx: SimContext): SimHandler {
  const dir = new GraphDirectory(ctx);

  const route = (call: Call): SimResponse => {
    const [collection, ...rest] = call.segments;
    switch (nameOf(collection)) {
      case 'users':
        return usersRoute(dir, call, rest);
      case 'groups':
        return groupsRoute(dir, call, rest);
      case 'directoryRoles':
        return rolesRoute(dir, call, rest);
      case 'subscribedSkus':
        return skusRoute(dir, call, rest);
      case 'directoryObjects':
        return directoryObjectsRoute(dir, call, rest);
      case 'roleManagement':
        return roleManagementRoute(dir, call, rest);
      default:
        throw segmentNotFound(collection === undefined ? '' : segmentText(collection));
    }
  };

  /** Runs one call and turns a `GraphFault` into Graph's error body. */
  const answer = (call: Call): SimResponse => {
    try {
      return route(call);
    } catch (error) {
      if (error instanceof GraphFault) return graphError(error.status, error.code, error.message, call.clientRequestId, error.headers);
      throw error;
    }
  };

  return (request) => {
    const headers = lowerHeaders(request.headers);
    const clientRequestId = headers['client-request-id'];
    let segments: Segment[];
    try {
      segments = splitPath(request.url.pathname);
    } catch (error) {
      if (error instanceof GraphFault) return graphError(error.status, error.code, error.message, clientRequestId);
      throw error;
    }
    const [version, ...rest] = segments;
    if (version !== 'v1.0') return graphError(400, 'BadRequest', 'Invalid version.', clientRequestId);
    if (rest.length === 1 && rest[0] === '$batch') {
      if (request.method !== 'POST') return graphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.', clientRequestId);
      return batch(ctx, answer, request, clientRequestId);
    }
    const response = answer({ method: request.method.toUpperCase(), segments: rest, query: request.url.searchParams, headers, body: request.body, clientRequestId });
    if (clientRequestId && response.headers) response.headers['client-request-id'] = clientRequestId;
    return response;
  };
}
