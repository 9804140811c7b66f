import type { DirectoryUser, SubscribedSku } from './model.js';
import type { MonthlyPrice } from './money.js';

/**
 * Which of the tenant's SKUs entitle a user to what (D4.2). Built once per run from
 * `subscribedSkus` and the configured part-number lists.
 */
export interface LicenseCatalog {
  /** skuId → part number, for messages. */
  partNumbers: Map<string, string>;
  /** skuIds that entitle to a Dataverse environment (settings.environmentLicenseSkus). */
  environmentSkuIds: Set<string>;
  /** skuIds of Microsoft 365 licenses that include a free Dataverse plan (D2, D4.2 v). */
  freeDataversePlanSkuIds: Set<string>;
  /** D4.2 iii: the tenant holds a tenant-level marketing license. */
  marketingTenantLicense: boolean;
  /** SPEC §7 Money: skuId → monthly price (from `licensePrices`, by part number); unpriced SKUs are absent. */
  prices: Map<string, MonthlyPrice>;
}

export interface LicenseSettings {
  environmentLicenseSkus: readonly string[];
  marketingTenantSkus: readonly string[];
  freeDataversePlanSkus: readonly string[];
  /** skuPartNumber → monthly price. */
  licensePrices?: Readonly<Record<string, MonthlyPrice>>;
}

export function buildLicenseCatalog(skus: readonly SubscribedSku[], settings: LicenseSettings): LicenseCatalog {
  const byPart = (parts: readonly string[]) => {
    const wanted = new Set(parts.map((p) => p.toUpperCase()));
    return new Set(skus.filter((s) => wanted.has(s.skuPartNumber.toUpperCase())).map((s) => s.skuId));
  };
  const marketing = byPart(settings.marketingTenantSkus);
  return {
    partNumbers: new Map(skus.map((s) => [s.skuId, s.skuPartNumber])),
    environmentSkuIds: byPart(settings.environmentLicenseSkus),
    freeDataversePlanSkuIds: byPart(settings.freeDataversePlanSkus),
    marketingTenantLicense: skus.some((s) => marketing.has(s.skuId) && s.capabilityStatus === 'Enabled' && s.enabledUnits > 0),
    prices: pricesBySkuId(skus, settings.licensePrices ?? {}),
  };
}

function pricesBySkuId(skus: readonly SubscribedSku[], prices: Readonly<Record<string, MonthlyPrice>>): Map<string, MonthlyPrice> {
  const byPart = new Map(Object.entries(prices).map(([part, price]) => [part.toUpperCase(), price]));
  const out = new Map<string, MonthlyPrice>();
  for (const sku of skus) {
    const price = byPart.get(sku.skuPartNumber.toUpperCase());
    if (price) out.set(sku.skuId, { monthly: price.monthly, currency: price.currency });
  }
  return out;
}

/** "Holds a license": `assignedLicenses` is not empty (SPEC §2). */
export const holdsAnyLicense = (user: Pick<DirectoryUser, 'assignedSkuIds'>) => user.assignedSkuIds.length > 0;

/** "Holds an environment license": one of its SKUs is in the environment-license list (SPEC §2). */
export const holdsEnvironmentLicense = (user: Pick<DirectoryUser, 'assignedSkuIds'>, catalog: LicenseCatalog) =>
  user.assignedSkuIds.some((id) => catalog.environmentSkuIds.has(id));

export const environmentLicensesOf = (user: Pick<DirectoryUser, 'assignedSkuIds'>, catalog: LicenseCatalog) =>
  user.assignedSkuIds.filter((id) => catalog.environmentSkuIds.has(id)).map((id) => catalog.partNumbers.get(id) ?? id);

export const licenseNamesOf = (user: Pick<DirectoryUser, 'assignedSkuIds'>, catalog: LicenseCatalog) =>
  user.assignedSkuIds.map((id) => catalog.partNumbers.get(id) ?? id);
