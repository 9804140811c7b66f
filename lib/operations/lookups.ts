import type { DirectoryUser, Environment, SystemUser } from '../domain/model.js';
import type { DataverseTarget } from '../gateways/dataverse/port.js';
import type { AppServices } from '../services.js';
import { NotFoundError, RuleRefusal } from '../domain/errors.js';

/** The lookups every user operation starts with; each one fails with the domain's reason. */

export async function requireEnvironment(services: AppServices, environmentId: string): Promise<Environment> {
  const environment = await services.environments.getEnvironment(environmentId);
  if (!environment) throw new NotFoundError('environment', environmentId);
  return environment;
}

/** D3, E1: only an environment with a Dataverse database has users to add, enable or disable. */
export function requireDataverse(environment: Environment): DataverseTarget {
  if (!environment.hasDataverse || !environment.instanceUrl) {
    throw new RuleRefusal(
      'no-dataverse',
      `Environment '${environment.displayName}' (${environment.id}) has no Dataverse database: users cannot be added, enabled or disabled there (D3, E1).`,
      'D3',
      { environmentId: environment.id },
    );
  }
  return { id: environment.id, instanceUrl: environment.instanceUrl };
}

/** `{user}` is a UPN or an Entra object id. */
export async function requireUser(services: AppServices, userReference: string): Promise<DirectoryUser> {
  const user = await services.directory.getUser(userReference);
  if (!user) throw new NotFoundError('user', userReference, `No Entra user '${userReference}'.`);
  return user;
}

/** The user's systemuser row; D1 names the ways to get one when there is none yet. */
export async function requireSystemUser(
  services: AppServices,
  target: DataverseTarget,
  user: DirectoryUser,
): Promise<SystemUser> {
  const row = await services.dataverse.findSystemUserByEntraId(target, user.id);
  if (!row) {
    throw new NotFoundError(
      'systemuser',
      user.userPrincipalName,
      `${user.userPrincipalName} has no systemuser row in environment ${target.id} yet: enable the user or force a sync (POST …/sync) first (D1).`,
    );
  }
  return row;
}
