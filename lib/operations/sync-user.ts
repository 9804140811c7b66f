import type { DirectoryUser, Environment, SystemUser } from '../domain/model.js';
import { isServiceError } from '../gateways/http/service-error.js';
import type { AppServices } from '../services.js';
import { RuleRefusal } from '../domain/errors.js';
import { requireDataverse, requireEnvironment, requireUser } from './lookups.js';
import { environmentView, systemUserView, type SystemUserView } from './views.js';

/**
 * D1: besides the periodic background sync and the first sign-in, a systemuser row is added or
 * refreshed from Entra on demand through the Power Platform admin API (`addUser`). Returns the row
 * as it is right after (null when it has not appeared yet).
 */
export async function forceSync(services: AppServices, environment: Environment, user: DirectoryUser): Promise<SystemUser | null> {
  const target = requireDataverse(environment);
  try {
    await services.environments.addUser(environment.id, user.id);
  } catch (error) {
    // The admin API refuses a user who is not entitled (D4): a rule refusal, not an outage.
    if (isServiceError(error) && error.status !== undefined && error.status >= 400 && error.status < 500 && error.status !== 404 && error.status !== 429) {
      throw new RuleRefusal(
        'sync-refused',
        `The Power Platform admin API refused to add ${user.userPrincipalName} to '${environment.displayName}'` +
          `${error.code ? ` (${error.code})` : ''}. GET …/diagnosis says which requirement of D4 is missing.`,
        'D1',
        { userId: user.id, environmentId: environment.id },
      );
    }
    throw error;
  }
  return services.dataverse.findSystemUserByEntraId(target, user.id);
}

export interface SyncUserResult {
  state: 'present' | 'pending';
  environment: ReturnType<typeof environmentView>;
  user: { id: string; userPrincipalName: string };
  systemUser: SystemUserView | null;
}

export async function syncUser(services: AppServices, input: { environmentId: string; user: string }): Promise<SyncUserResult> {
  const environment = await requireEnvironment(services, input.environmentId);
  requireDataverse(environment); // D3
  const user = await requireUser(services, input.user);
  const row = await forceSync(services, environment, user);
  return {
    state: row ? 'present' : 'pending',
    environment: environmentView(environment),
    user: { id: user.id, userPrincipalName: user.userPrincipalName },
    systemUser: row ? systemUserView(row) : null,
  };
}
