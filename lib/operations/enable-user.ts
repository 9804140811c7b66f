import { allPages } from '../gateways/http/pages.js';
import type { AppServices } from '../services.js';
import { RuleRefusal } from '../domain/errors.js';
import { environmentSkusHeld, requireFreeUnit, resolveSkus } from './licenses.js';
import { requireDataverse, requireEnvironment, requireUser } from './lookups.js';
import { forceSync } from './sync-user.js';
import { directoryUserView, environmentView, systemUserView, type SystemUserView } from './views.js';

/**
 * Enable a user in an environment (E1: sign-in allowed + license + member of the environment's
 * security group), then force the sync (D1) so the systemuser row does not wait for the
 * background sync. The row may take a while to turn enabled: until it does, the caller polls the
 * enable status (`pending`).
 */

export interface EnableUserInput {
  environmentId: string;
  user: string;
  /** A SKU part number or id to assign when the user does not hold it yet. */
  license?: string;
}

export interface EnableUserResult {
  state: 'enabled' | 'pending';
  /**
   * R5: while the licence propagates to the admin API, until when the status poll keeps asking it
   * to add the user (ISO time); afterwards the poll answers 409 (D4.2).
   */
  licenseDeadline?: string;
  user: ReturnType<typeof directoryUserView>;
  environment: ReturnType<typeof environmentView>;
  systemUser: SystemUserView | null;
  /** What this call changed, in words. */
  changes: string[];
  warnings: string[];
}

export async function enableUser(services: AppServices, input: EnableUserInput): Promise<EnableUserResult> {
  const environment = await requireEnvironment(services, input.environmentId);
  requireDataverse(environment); // D3
  const user = await requireUser(services, input.user);

  // E1, D4.1: sign-in must be allowed. Steward does not turn an Entra account back on: E6 says a
  // re-enabled account needs a new invitation, and an on-premises account is switched on in AD.
  if (!user.accountEnabled) {
    throw new RuleRefusal(
      'account-disabled',
      `${user.userPrincipalName} cannot sign in: the Entra account is disabled (D4.1). ` +
        (user.onPremisesSyncEnabled
          ? 'It is synced from on-premises AD: enable it there, then retry.'
          : 'Enable the account in Entra (the user needs a new invitation, E6), then retry.'),
      'D4.1',
      { userId: user.id },
    );
  }

  const changes: string[] = [];
  const warnings: string[] = [];
  const skus = await allPages(services.directory.listSubscribedSkus());
  let assigned = [...user.assignedSkuIds];

  if (input.license) {
    const [sku] = resolveSkus(skus, [input.license]);
    if (sku && !user.assignedSkuIds.some((id) => id.toLowerCase() === sku.skuId.toLowerCase())) {
      if (!user.usageLocation) {
        throw new RuleRefusal(
          'usage-location-missing',
          `${user.userPrincipalName} has no usage location: Microsoft Graph assigns no license without one. Set it in Entra` +
            (user.onPremisesSyncEnabled ? ' (or in on-premises AD, the user is synced from there)' : '') +
            ', then retry.',
          undefined,
          { userId: user.id },
        );
      }
      requireFreeUnit(sku);
      await services.directory.assignLicenses(user.id, [sku.skuId], []);
      assigned = [...assigned, sku.skuId];
      changes.push(`license ${sku.skuPartNumber} assigned`);
    }
  } else if (environmentSkusHeld({ ...user, assignedSkuIds: assigned }, skus, services.settings.environmentLicenseSkus).length === 0) {
    warnings.push(
      `${user.userPrincipalName} holds no environment license: unless an exception of D4.2 applies (administrator, pass per app, non-interactive…), ` +
        'the row will stay disabled. Ask for one with "license".',
    );
  }

  if (environment.securityGroupId) {
    // E4: only direct membership counts; a nested group that contains the user does not.
    const members = await allPages(services.directory.listGroupMembers(environment.securityGroupId));
    if (!members.some((m) => m.kind === 'user' && m.id.toLowerCase() === user.id.toLowerCase())) {
      await services.directory.addGroupMember(environment.securityGroupId, user.id);
      changes.push('added to the environment security group (direct member, E1, E4)');
    }
  }

  // R5: a licence that Entra holds may not have reached the admin API yet; it answers
  // `userNotLicensed` meanwhile. Only then is waiting worth it: without one it refuses for good.
  const licensed = environmentSkusHeld({ ...user, assignedSkuIds: assigned }, skus, services.settings.environmentLicenseSkus).length > 0;
  let waitingForLicense = false;
  const row = await forceSync(services, environment, user, { awaitLicense: licensed, onLicensePending: () => (waitingForLicense = true) });
  changes.push('sync forced through the Power Platform admin API (D1)');
  if (waitingForLicense) warnings.push('The licence has not reached the Power Platform admin API yet (it propagates for minutes): poll the Location until the row is enabled.');

  return {
    state: row && !row.isDisabled ? 'enabled' : 'pending',
    ...(waitingForLicense ? { licenseDeadline: new Date(services.now().getTime() + services.settings.licensePropagationWaitSeconds * 1000).toISOString() } : {}),
    user: directoryUserView({ ...user, assignedSkuIds: assigned }, skus),
    environment: environmentView(environment),
    systemUser: row ? systemUserView(row) : null,
    changes,
    warnings,
  };
}

export type StatusCondition = 'enabled' | 'present';

export interface EnableStatusResult {
  state: 'enabled' | 'present' | 'pending';
  environment: ReturnType<typeof environmentView>;
  user: { id: string; userPrincipalName: string };
  systemUser: SystemUserView | null;
}

/**
 * The poll behind the 202 of enable and sync: `enabled` waits for an enabled row, `present` for
 * any row. Reads only, except while a licence propagates (`licenseDeadline`, R5): then each poll
 * asks the admin API again to add the user, and past the deadline its refusal is the answer (409, D4.2).
 */
export async function userRowStatus(
  services: AppServices,
  input: { environmentId: string; user: string; until: StatusCondition; licenseDeadline?: Date },
): Promise<EnableStatusResult> {
  const environment = await requireEnvironment(services, input.environmentId);
  const target = requireDataverse(environment);
  const user = await requireUser(services, input.user);
  let row = await services.dataverse.findSystemUserByEntraId(target, user.id);
  if (input.licenseDeadline && input.until === 'enabled' && (!row || row.isDisabled)) {
    const waitSeconds = services.settings.licensePropagationWaitSeconds;
    row = await forceSync(services, environment, user, {
      awaitLicense: services.now() < input.licenseDeadline,
      note: ` The licence did not take effect in the admin API within ${waitSeconds} s (STEWARD_LICENSE_PROPAGATION_WAIT_S, R5).`,
    });
  }
  const ready = input.until === 'enabled' ? !!row && !row.isDisabled : !!row;
  return {
    state: ready ? (input.until === 'enabled' ? 'enabled' : 'present') : 'pending',
    environment: environmentView(environment),
    user: { id: user.id, userPrincipalName: user.userPrincipalName },
    systemUser: row ? systemUserView(row) : null,
  };
}
