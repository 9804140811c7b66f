import { allPages } from '../gateways/http/pages.js';
import type { AppServices } from '../services.js';
import { RuleRefusal } from '../domain/errors.js';
import { removeEnvironmentLicenses } from './licenses.js';
import { requireDataverse, requireEnvironment, requireUser } from './lookups.js';
import { environmentView, systemUserView, type SystemUserView } from './views.js';

/**
 * Leaver (or mover out of an environment). E2: the recommended way to disable is to remove the
 * user from the environment's security group; the row turns disabled with the next sync. That does
 * not free the license: `removeLicenses` removes the environment licenses too, so they can be
 * reused, and warns when another environment still needs them.
 */

export interface DisableUserInput {
  environmentId: string;
  user: string;
  removeLicenses: boolean;
}

export interface DisableUserResult {
  state: 'disabled' | 'disable-pending-sync';
  environment: ReturnType<typeof environmentView>;
  user: { id: string; userPrincipalName: string };
  removedFromSecurityGroup: boolean;
  licensesRemoved: string[];
  stillEnabledIn: { id: string; displayName: string }[];
  systemUser: SystemUserView | null;
  changes: string[];
  warnings: string[];
}

export async function disableUser(services: AppServices, input: DisableUserInput): Promise<DisableUserResult> {
  const environment = await requireEnvironment(services, input.environmentId);
  const target = requireDataverse(environment); // D3, E1
  const user = await requireUser(services, input.user);

  if (!environment.securityGroupId && !input.removeLicenses) {
    throw new RuleRefusal(
      'no-security-group',
      `Environment '${environment.displayName}' has no security group, so there is no membership to remove. ` +
        'The other way to disable is to remove the license: call again with "removeLicenses": true (E2).',
      'E2',
      { environmentId: environment.id },
    );
  }

  const changes: string[] = [];
  const warnings: string[] = [];
  let removedFromSecurityGroup = false;
  if (environment.securityGroupId) {
    const members = await allPages(services.directory.listGroupMembers(environment.securityGroupId));
    if (members.some((m) => m.kind === 'user' && m.id.toLowerCase() === user.id.toLowerCase())) {
      await services.directory.removeGroupMember(environment.securityGroupId, user.id);
      removedFromSecurityGroup = true;
      changes.push('removed from the environment security group (E2)');
    } else {
      // E4: a nested membership never entitled the user, so there is nothing to remove.
      warnings.push(`${user.userPrincipalName} is not a direct member of the environment security group: nothing to remove (E4).`);
    }
  }

  const removal = input.removeLicenses ? await removeEnvironmentLicenses(services, user, environment) : null;
  if (removal) {
    warnings.push(...removal.warnings);
    if (removal.removed.length > 0) changes.push(`licenses removed: ${removal.removed.join(', ')} (E2)`);
  } else {
    warnings.push('The license was kept: removing a user from the group does not free it (E2). Use "removeLicenses": true to reuse it.');
  }

  const row = await services.dataverse.findSystemUserByEntraId(target, user.id);
  return {
    state: !row || row.isDisabled ? 'disabled' : 'disable-pending-sync',
    environment: environmentView(environment),
    user: { id: user.id, userPrincipalName: user.userPrincipalName },
    removedFromSecurityGroup,
    licensesRemoved: removal?.removed ?? [],
    stillEnabledIn: removal?.stillEnabledIn ?? [],
    systemUser: row ? systemUserView(row) : null,
    changes,
    warnings,
  };
}
