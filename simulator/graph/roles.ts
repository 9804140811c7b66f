import type { SimResponse } from '../core/host.js';
import { listObjects, readFilter } from './collections.js';
import { simulatedRoleId, type GraphDirectory } from './directory.js';
import { DIRECTORY_ROLE_MEMBERS_LIMIT } from './role-assignments.js';
import { badRequest, evaluateFilter, notFound, parseSelect, segmentNotFound } from './odata.js';
import { projectObject, projectRole } from './projection.js';
import { ROLE_FILTERABLE } from './properties.js';
import { eqi, keyOf, methodNotAllowed, nameOf, ok, type Call, type Segment } from './protocol.js';

/** `/directoryRoles` (by id, or by `roleTemplateId` as an alternate key) with their members, and `/directoryObjects/{id}`. */

export function rolesRoute(dir: GraphDirectory, call: Call, rest: Segment[]): SimResponse {
  if (call.method !== 'GET') throw methodNotAllowed();
  if (rest.length === 0) {
    const select = parseSelect(call.query);
    const filter = readFilter(call, ROLE_FILTERABLE, 'DirectoryRole');
    const roles = dir.graph.directoryRoles.filter((r) => !filter || evaluateFilter(filter, projectRole(r, undefined)));
    return ok(200, { '@odata.context': dir.contextFor('directoryRoles', select), value: roles.map((r) => projectRole(r, select)) });
  }
  const key = keyOf(rest[0])!;
  if (key.alternate !== undefined && !eqi(key.alternate, 'roleTemplateId')) throw badRequest(`Invalid alternate key '${key.alternate}'.`);
  const role = dir.findRole(key);
  if (!role) throw notFound(key.key);
  const [, navigation, cast, ...more] = rest;
  if (navigation === undefined) {
    const select = parseSelect(call.query);
    return ok(200, { '@odata.context': dir.contextFor('directoryRoles', select, true), ...projectRole(role, select) });
  }
  if (navigation === 'members' && more.length === 0) {
    // R2: at most 1,000 objects, `$top` ignored, never a next link (directoryrole-list-members.md).
    const query = new URLSearchParams([...call.query].filter(([k]) => k.toLowerCase() !== '$top'));
    const members = dir.resolveAll(role.members).slice(0, DIRECTORY_ROLE_MEMBERS_LIMIT);
    return listObjects(dir, { ...call, query }, `/directoryRoles/${simulatedRoleId(role)}/members`, members, cast, DIRECTORY_ROLE_MEMBERS_LIMIT);
  }
  throw segmentNotFound(nameOf(navigation) ?? '');
}

export function directoryObjectsRoute(dir: GraphDirectory, call: Call, rest: Segment[]): SimResponse {
  if (call.method !== 'GET' || rest.length !== 1) throw methodNotAllowed();
  const id = keyOf(rest[0])!.key;
  const object = dir.objectIndex().get(id.toLowerCase());
  if (!object) throw notFound(id);
  return ok(200, { '@odata.context': dir.metadata('directoryObjects/$entity'), ...projectObject(dir, object, parseSelect(call.query)) });
}
