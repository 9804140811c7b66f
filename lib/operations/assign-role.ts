import type { SecurityRole } from '../domain/model.js';
import type { DataverseTarget } from '../gateways/dataverse/port.js';
import { allPages } from '../gateways/http/pages.js';
import type { AppServices } from '../services.js';
import { NotFoundError, RuleRefusal } from '../domain/errors.js';
import { requireDataverse, requireEnvironment, requireSystemUser, requireUser } from './lookups.js';
import { environmentView, systemUserView, type SystemUserView } from './views.js';

/**
 * A security role for a user's row (U3: without one, directly or through a team, the user cannot
 * use the apps). E5: roles go only to enabled users, unless the organization's
 * `AllowRoleAssignmentOnDisabledUsers` is true.
 */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * By id, else by name (ignoring case). Roles exist once per business unit with the same name:
 * the copy of the user's business unit wins, then the root's.
 */
export async function findRole(
  services: AppServices,
  target: DataverseTarget,
  reference: string,
  businessUnitId: string | null,
): Promise<SecurityRole> {
  const roles = await allPages(services.dataverse.listRoles(target));
  if (GUID.test(reference)) {
    const byId = roles.find((r) => r.id.toLowerCase() === reference.toLowerCase());
    if (byId) return byId;
  }
  const named = roles.filter((r) => r.name.toLowerCase() === reference.toLowerCase());
  if (named.length === 0) {
    throw new NotFoundError('role', reference, `Environment ${target.id} has no security role '${reference}' (by name or id).`);
  }
  return named.find((r) => businessUnitId && r.businessUnitId?.toLowerCase() === businessUnitId.toLowerCase()) ?? named[0]!;
}

export interface AssignRoleResult {
  environment: ReturnType<typeof environmentView>;
  user: { id: string; userPrincipalName: string };
  role: { id: string; name: string };
  assigned: boolean;
  systemUser: SystemUserView;
}

export async function assignRole(
  services: AppServices,
  input: { environmentId: string; user: string; role: string },
): Promise<AssignRoleResult> {
  const environment = await requireEnvironment(services, input.environmentId);
  const target = requireDataverse(environment); // D3
  const user = await requireUser(services, input.user);
  const row = await requireSystemUser(services, target, user);
  const role = await findRole(services, target, input.role, row.businessUnitId);

  const already = row.roleIds.some((id) => id.toLowerCase() === role.id.toLowerCase());
  if (!already) {
    if (row.isDisabled) {
      const settings = await services.dataverse.getOrganizationSettings(target);
      if (!settings.allowRoleAssignmentOnDisabledUsers) {
        throw new RuleRefusal(
          'role-on-disabled-user',
          `${user.userPrincipalName} is disabled in '${environment.displayName}': roles can be assigned only to enabled users, ` +
            'unless the organization setting AllowRoleAssignmentOnDisabledUsers is true (E5). Enable the user first.',
          'E5',
          { userId: user.id, systemUserId: row.id },
        );
      }
    }
    await services.dataverse.assignRole(target, row.id, role.id);
  }
  const after = (await services.dataverse.getSystemUser(target, row.id)) ?? { ...row, roleIds: [...row.roleIds, role.id] };
  return {
    environment: environmentView(environment),
    user: { id: user.id, userPrincipalName: user.userPrincipalName },
    role: { id: role.id, name: role.name },
    assigned: !already,
    systemUser: systemUserView(after),
  };
}
