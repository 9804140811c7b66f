import type { SimResponse } from '../core/host.js';
import { page, readFilter } from './collections.js';
import type { GraphDirectory, Role } from './directory.js';
import { badRequest, evaluateFilter, parseSelect, segmentNotFound } from './odata.js';
import { projectObject } from './projection.js';
import { eqi, methodNotAllowed, nameOf, segmentText, type Call, type Json, type Segment } from './protocol.js';

/**
 * `/roleManagement/directory/roleAssignments` (v1.0 `rbacapplication-list-roleassignments`): one
 * assignment per principal holding a role at the directory scope, filterable on `roleDefinitionId`
 * and `principalId` (`eq`, `in`), with `$expand=principal`, paged with `@odata.nextLink` (R2). For a
 * built-in role the role definition id is the role's template id (the doc's own example filters on
 * the Global Administrator template id). A role-assignable group is one principal: its members are
 * not expanded into assignments of their own (U5). The page size is not documented: the simulator
 * pages at its Graph default, and `$top` (not among the documented query options) is ignored.
 */

const FILTERABLE = new Set(['roledefinitionid', 'principalid', 'directoryscopeid']);

/** The assignment id: base64url of the principal and the role, then `-1`, as the doc's examples look. */
const assignmentId = (role: Role, principalId: string) =>
  `${Buffer.from(`${role.roleTemplateId}:${principalId}`).toString('base64url').slice(0, 43)}-1`;

export function roleManagementRoute(dir: GraphDirectory, call: Call, rest: Segment[]): SimResponse {
  const [scope, collection, ...more] = rest;
  if (nameOf(scope) !== 'directory') throw segmentNotFound(scope === undefined ? '' : segmentText(scope));
  if (nameOf(collection) !== 'roleAssignments' || more.length > 0) throw segmentNotFound(collection === undefined ? '' : segmentText(collection));
  if (call.method !== 'GET') throw methodNotAllowed();
  const expand = call.query.get('$expand');
  if (expand !== null && !eqi(expand.trim(), 'principal')) throw badRequest(`Could not find a navigation property named '${expand}' on type 'microsoft.graph.unifiedRoleAssignment'.`);
  const filter = readFilter(call, FILTERABLE, 'unifiedRoleAssignment');
  const index = dir.objectIndex();
  const assignments: { record: Json; principal: string }[] = [];
  for (const role of dir.graph.directoryRoles) {
    for (const principalId of role.members) {
      const record: Json = {
        id: assignmentId(role, principalId),
        principalId,
        directoryScopeId: '/',
        roleDefinitionId: role.roleTemplateId,
      };
      if (!filter || evaluateFilter(filter, record)) assignments.push({ record, principal: principalId });
    }
  }
  const query = new URLSearchParams([...call.query].filter(([key]) => key.toLowerCase() !== '$top'));
  const select = parseSelect(call.query);
  const context = dir.metadata(`roleManagement/directory/roleAssignments${expand !== null ? '(principal())' : ''}`);
  return page(dir, { ...call, query }, '/roleManagement/directory/roleAssignments', context, assignments, false, ({ record, principal }) => {
    const out: Json = select ? Object.fromEntries(Object.entries(record).filter(([k]) => select.some((s) => eqi(s, k)) || k === 'id')) : { ...record };
    if (expand !== null) {
      const object = index.get(principal.toLowerCase());
      out.principal = object ? projectObject(dir, object, undefined) : null;
    }
    return out;
  });
}

/** `/directoryRoles/{id}/members` answers at most this many objects and never a next link (R2). */
export const DIRECTORY_ROLE_MEMBERS_LIMIT = 1000;
