import type { SimRequest, SimResponse } from '../core/host.js';
import type { FixtureSystemUser } from '../core/fixture.js';
import { DataverseErrorCode, ODATA_VERSION, bindId, dvError, find, notFound, same, type Entities, type Row } from './entity.js';
import type { DataverseEnvironment } from './environment.js';
import { QUERY_ERROR_CODE } from './odata-query.js';
import { allowsRoleAssignmentOnDisabledUsers } from './organizations.js';

/** `POST systemusers({id})/systemuserroles_association/$ref`: gives a user a security role (E5). */
export function associateRole(env: DataverseEnvironment, entities: Entities, request: SimRequest, userId: string): SimResponse {
  const row = find(entities.systemusers, userId) as (FixtureSystemUser & Row) | undefined;
  if (!row) return notFound(entities.systemusers, userId);
  const reference = (request.body as Row | undefined)?.['@odata.id'];
  const roleId = bindId(reference, 'roles');
  if (!roleId) {
    return dvError(400, QUERY_ERROR_CODE, `The '@odata.id' value '${String(reference)}' is not a valid reference to a role.`);
  }
  const role = find(entities.roles, roleId);
  if (!role) return notFound(entities.roles, roleId);
  if (row.isdisabled && !allowsRoleAssignmentOnDisabledUsers(env.environment.orgSettings)) {
    return dvError(
      400,
      DataverseErrorCode.userDisabled,
      `The user with SystemUserId = ${String(row.systemuserid)} is disabled. Security roles cannot be assigned to a disabled user unless AllowRoleAssignmentOnDisabledUsers is enabled in OrgDBOrgSettings.`,
    );
  }
  const current = row.roles ?? [];
  if (!current.some((id) => same(id, role.roleid))) row.roles = [...current, String(role.roleid)];
  return { status: 204, headers: { ...ODATA_VERSION } };
}
