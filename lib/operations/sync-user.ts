import type { DirectoryUser, Environment, SystemUser } from '../domain/model.js';
import { isServiceError, type ServiceError } from '../gateways/http/service-error.js';
import type { AppServices } from '../services.js';
import { ConcurrentChangeRefusal, RuleRefusal, type FactId } from '../domain/errors.js';
import { requireDataverse, requireEnvironment, requireUser } from './lookups.js';
import { environmentView, systemUserView, type SystemUserView } from './views.js';

/**
 * The requirement each refusal of the admin API's `addUser` names (D3, D4, D5; R5 for
 * `userNotLicensed`). The simulator answers with these codes; the real service's are documented only
 * for `userNotLicensed` (microsoft/terraform-provider-power-platform matches that text).
 */
const REFUSED_REQUIREMENT: Record<string, { factId: FactId; requirement: string }> = {
  userNotLicensed: { factId: 'D4.2', requirement: 'a licence that includes Dataverse, or an exception of D4.2' },
  userDisabled: { factId: 'D4.1', requirement: 'an enabled Entra account' },
  userNotInSecurityGroup: { factId: 'D4.3', requirement: "direct membership of the environment's security group" },
  userNotEnvironmentOwner: { factId: 'D5', requirement: 'being the creator of this Developer environment' },
  EnvironmentHasNoDatabase: { factId: 'D3', requirement: 'a Dataverse database in the environment' },
};

/** The admin API refused this user (D4): a rule refusal, not an outage. */
const isRefusal = (error: unknown) =>
  isServiceError(error) && error.status !== undefined && error.status >= 400 && error.status < 500 && error.status !== 404 && error.status !== 429;

/** `userNotLicensed`: also what the admin API answers while a freshly assigned licence propagates (R5). */
export const isLicenseNotSeenYet = (error: unknown) => isServiceError(error) && error.code === 'userNotLicensed';

/** The refusal of `addUser` as a RuleRefusal that names the requirement that failed. */
export function syncRefusal(error: ServiceError, user: DirectoryUser, environment: Environment, note = ''): RuleRefusal {
  const refused = error.code ? REFUSED_REQUIREMENT[error.code] : undefined;
  // The admin API decides from the tenant as it is at that instant, which may have changed since
  // Steward read it: a retry can be answered otherwise (not kept for an Idempotency-Key).
  return new ConcurrentChangeRefusal(
    'sync-refused',
    `The Power Platform admin API refused to add ${user.userPrincipalName} to '${environment.displayName}'` +
      `${error.code ? ` (${error.code})` : ''}` +
      (refused ? `: the user lacks ${refused.requirement} (${refused.factId}).${note}` : `.${note} GET …/diagnosis says which requirement of D4 is missing.`),
    refused?.factId ?? 'D1',
    { userId: user.id, environmentId: environment.id, ...(error.code ? { upstreamCode: error.code } : {}) },
  );
}

/**
 * D1: besides the periodic background sync and the first sign-in, a systemuser row is added or
 * refreshed from Entra on demand through the Power Platform admin API (`addUser`). Returns the row
 * as it is right after (null when it has not appeared yet). With `awaitLicense`, a `userNotLicensed`
 * answer means the licence is still propagating (R5): the row is not there yet (null), and
 * `onLicensePending` is told.
 */
export async function forceSync(
  services: AppServices,
  environment: Environment,
  user: DirectoryUser,
  options: { awaitLicense?: boolean; onLicensePending?: () => void; note?: string } = {},
): Promise<SystemUser | null> {
  const target = requireDataverse(environment);
  try {
    await services.environments.addUser(environment.id, user.id);
  } catch (error) {
    if (options.awaitLicense && isLicenseNotSeenYet(error)) {
      options.onLicensePending?.();
      return null;
    }
    if (isRefusal(error)) throw syncRefusal(error as ServiceError, user, environment, isLicenseNotSeenYet(error) ? options.note : '');
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
