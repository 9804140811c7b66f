import type { SecurityRole } from '../domain/model.js';
import { isServiceError } from '../gateways/http/service-error.js';
import { allPages } from '../gateways/http/pages.js';
import type { AppServices } from '../services.js';
import { RuleRefusal, UpstreamRefusal } from '../domain/errors.js';
import { findRole } from './assign-role.js';
import { requireDataverse, requireEnvironment } from './lookups.js';
import { environmentView, systemUserView, type SystemUserView } from './views.js';

/**
 * T2: an application user is a systemuser bound to an Entra app registration (`applicationid`),
 * non-interactive but outside the cap of 7, created in the root business unit. Idempotent: when
 * the app already has a user in the environment, that one is answered (and given the roles asked
 * for that it lacks).
 */

export interface CreateApplicationUserInput {
  environmentId: string;
  applicationId: string;
  roles: string[];
}

export interface CreateApplicationUserResult {
  created: boolean;
  environment: ReturnType<typeof environmentView>;
  rolesAssigned: { id: string; name: string }[];
  systemUser: SystemUserView;
  warnings: string[];
}

export async function createApplicationUser(services: AppServices, input: CreateApplicationUserInput): Promise<CreateApplicationUserResult> {
  const environment = await requireEnvironment(services, input.environmentId);
  const target = requireDataverse(environment); // D3

  const businessUnits = await allPages(services.dataverse.listBusinessUnits(target));
  const root = businessUnits.find((b) => b.parentId === null);
  if (!root) {
    throw new RuleRefusal('no-root-business-unit', `Environment '${environment.displayName}' reports no root business unit; application users are created there (T2).`, 'T2');
  }
  // Every role is found before anything is created: an unknown one is a 404 with nothing changed.
  const roles: SecurityRole[] = [];
  for (const reference of new Set(input.roles)) {
    const role = await findRole(services, target, reference, root.id);
    if (!roles.some((r) => r.id === role.id)) roles.push(role);
  }

  const warnings: string[] = [];
  let row = await services.dataverse.findSystemUserByApplicationId(target, input.applicationId);
  const created = !row;
  if (!row) {
    let id: string;
    try {
      id = await services.dataverse.createApplicationUser(target, input.applicationId, root.id);
    } catch (error) {
      if (isServiceError(error) && error.status === 400) {
        throw new UpstreamRefusal(
          'dataverse',
          error.operation,
          `Dataverse refused the application user for ${input.applicationId}${error.code ? ` (${error.code})` : ''}: check that the app registration exists in this tenant.`,
          error.code,
        );
      }
      throw error;
    }
    row = await services.dataverse.getSystemUser(target, id);
    if (!row) throw new RuleRefusal('application-user-missing', `Dataverse created application user ${id} but does not return it yet; retry in a moment.`, 'T2');
  } else if (row.isDisabled) {
    warnings.push('This application user is disabled: every integration that uses it is broken until it is enabled again (T2).');
  }

  const rolesAssigned: { id: string; name: string }[] = [];
  for (const role of roles) {
    if (row.roleIds.some((id) => id.toLowerCase() === role.id.toLowerCase())) continue;
    await services.dataverse.assignRole(target, row.id, role.id);
    rolesAssigned.push({ id: role.id, name: role.name });
  }
  if (rolesAssigned.length > 0) row = (await services.dataverse.getSystemUser(target, row.id)) ?? row;

  return { created, environment: environmentView(environment), rolesAssigned, systemUser: systemUserView(row), warnings };
}
