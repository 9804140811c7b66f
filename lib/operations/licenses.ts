import type { DirectoryUser, Environment, SubscribedSku } from '../domain/model.js';
import { isRegularUser } from '../domain/user-kinds.js';
import { allPages } from '../gateways/http/pages.js';
import type { AppServices } from '../services.js';
import { RuleRefusal } from '../domain/errors.js';

/** Licenses as the user operations need them: found by part number or id, checked for free units. */

export const freeUnits = (sku: SubscribedSku) => Math.max(0, sku.enabledUnits - sku.consumedUnits);

/** By SKU id or part number, ignoring case (Power Automate users type part numbers by hand). */
export function findSku(skus: readonly SubscribedSku[], reference: string): SubscribedSku | undefined {
  const wanted = reference.toLowerCase();
  return skus.find((s) => s.skuId.toLowerCase() === wanted) ?? skus.find((s) => s.skuPartNumber.toLowerCase() === wanted);
}

/** Every reference resolved, duplicates dropped; an unknown one is refused before anything changes. */
export function resolveSkus(skus: readonly SubscribedSku[], references: readonly string[]): SubscribedSku[] {
  const resolved = new Map<string, SubscribedSku>();
  for (const reference of references) {
    const sku = findSku(skus, reference);
    if (!sku) {
      throw new RuleRefusal(
        'unknown-sku',
        `The tenant has no subscription to the SKU '${reference}' (0 free units): check the part number or id in the admin center.`,
        undefined,
        { sku: reference, freeUnits: 0 },
      );
    }
    resolved.set(sku.skuId, sku);
  }
  return [...resolved.values()];
}

/** A license can be assigned only from an enabled subscription with a unit left. */
export function requireFreeUnit(sku: SubscribedSku): void {
  const free = freeUnits(sku);
  if (sku.capabilityStatus !== 'Enabled' || free < 1) {
    throw new RuleRefusal(
      'no-free-units',
      `The SKU ${sku.skuPartNumber} has ${free} free unit${free === 1 ? '' : 's'}` +
        (sku.capabilityStatus !== 'Enabled' ? ` and its subscription is ${sku.capabilityStatus}` : '') +
        ': free one (remove it from disabled accounts, E2) or buy more.',
      undefined,
      { sku: sku.skuPartNumber, skuId: sku.skuId, freeUnits: free },
    );
  }
}

/** The user's licenses that entitle to environments (settings.environmentLicenseSkus, D4.2). */
export function environmentSkusHeld(user: DirectoryUser, skus: readonly SubscribedSku[], environmentLicenseSkus: readonly string[]): SubscribedSku[] {
  const wanted = new Set(environmentLicenseSkus.map((p) => p.toUpperCase()));
  const held = new Set(user.assignedSkuIds.map((id) => id.toLowerCase()));
  return skus.filter((s) => held.has(s.skuId.toLowerCase()) && wanted.has(s.skuPartNumber.toUpperCase()));
}

export interface LicenseRemoval {
  /** Part numbers removed. */
  removed: string[];
  /** Other environments where the user is still enabled and which need an environment license (D4.2). */
  stillEnabledIn: { id: string; displayName: string }[];
  warnings: string[];
}

/**
 * Removes the user's environment licenses (E2: removing a user from the group does not free the
 * license; A2, T3: administrative and non-interactive users need none). Before removing, looks
 * for other environments where the user is still enabled: there the license is still needed, so
 * the answer warns (the removal goes ahead, as asked).
 */
export async function removeEnvironmentLicenses(
  services: AppServices,
  user: DirectoryUser,
  currentEnvironment: Environment,
): Promise<LicenseRemoval> {
  const skus = await allPages(services.directory.listSubscribedSkus());
  const held = environmentSkusHeld(user, skus, services.settings.environmentLicenseSkus);
  if (held.length === 0) {
    return { removed: [], stillEnabledIn: [], warnings: [`${user.userPrincipalName} holds no environment license: nothing to remove.`] };
  }
  const others = (await allPages(services.environments.listEnvironments())).filter(
    (e) => e.id !== currentEnvironment.id && e.hasDataverse && e.instanceUrl,
  );
  const checks = await Promise.allSettled(
    others.map(async (environment) => {
      const row = await services.dataverse.findSystemUserByEntraId({ id: environment.id, instanceUrl: environment.instanceUrl }, user.id);
      return { environment, enabled: !!row && isRegularUser(row) && !row.isDisabled && row.accessMode === 0 };
    }),
  );
  const stillEnabledIn: LicenseRemoval['stillEnabledIn'] = [];
  const warnings: string[] = [];
  checks.forEach((check, i) => {
    const environment = others[i]!;
    if (check.status === 'rejected') warnings.push(`Could not check environment '${environment.displayName}' (${environment.id}) for the user's row.`);
    else if (check.value.enabled) stillEnabledIn.push({ id: environment.id, displayName: environment.displayName });
  });
  if (stillEnabledIn.length > 0) {
    warnings.push(
      `${user.userPrincipalName} is still enabled in ${stillEnabledIn.map((e) => `'${e.displayName}'`).join(', ')}, ` +
        'which need an environment license (D4.2): without it the user loses access there at the next sync.',
    );
  }
  await services.directory.assignLicenses(user.id, [], held.map((s) => s.skuId));
  return { removed: held.map((s) => s.skuPartNumber), stillEnabledIn, warnings };
}
