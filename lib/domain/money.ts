/**
 * SPEC §7 Money: what licences cost a month, per currency. Amounts of different currencies are
 * never added together; every list here holds at most one entry per currency. Pure.
 */

/** A SKU's monthly price per user (`settings.licensePrices`, `STEWARD_LICENSE_PRICES`). */
export interface MonthlyPrice {
  monthly: number;
  /** ISO 4217 code, e.g. `EUR`. */
  currency: string;
}

/** An amount in one currency. */
export interface Money {
  currency: string;
  amount: number;
}

/** The checks whose findings recommend removing licences (SPEC §7): each carries `details.monthlyCost`. */
export const LICENCE_WASTE_CHECKS = [
  'entra.disabled-user-licensed',
  'dataverse.disabled-user-licensed',
  'entra.inactive-licensed-user',
  'dataverse.non-interactive-licensed',
  'dataverse.administrative-licensed',
] as const;

const LICENCE_WASTE = new Set<string>(LICENCE_WASTE_CHECKS);

/** Cents, so that sums of prices such as 10.1 + 20.2 read as 30.3. */
const round = (amount: number) => Math.round(amount * 100) / 100;

/** Sums amounts per currency: one entry per currency, sorted by currency code. */
export function sumByCurrency(amounts: Iterable<Money>): Money[] {
  const totals = new Map<string, number>();
  for (const { currency, amount } of amounts) totals.set(currency, (totals.get(currency) ?? 0) + amount);
  return [...totals].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amount]) => ({ currency, amount: round(amount) }));
}

/** The monthly cost of a set of SKUs (by skuId) for one user; SKUs without a price cost nothing known. */
export function monthlyCostOf(skuIds: readonly string[], prices: ReadonlyMap<string, MonthlyPrice>): Money[] {
  return sumByCurrency(
    skuIds.flatMap((id) => {
      const price = prices.get(id);
      return price ? [{ currency: price.currency, amount: price.monthly }] : [];
    }),
  );
}

/** `details.monthlyCost` of a finding, when it is a well-formed list. */
function costOf(details: unknown): Money[] {
  const cost = (details as { monthlyCost?: unknown } | null)?.monthlyCost;
  if (!Array.isArray(cost)) return [];
  return cost.filter((m): m is Money => typeof m?.currency === 'string' && typeof m?.amount === 'number');
}

/**
 * The reclaimable total of a set of findings, per currency: the monthly cost of every licence-waste
 * finding among them (the CLI table, the alert document and the report show it).
 */
export function reclaimableMonthlyTotals(findings: Iterable<{ checkId: string; details?: unknown }>): Money[] {
  const amounts: Money[] = [];
  for (const finding of findings) if (LICENCE_WASTE.has(finding.checkId)) amounts.push(...costOf(finding.details));
  return sumByCurrency(amounts);
}

/** "12.50 EUR + 30.00 USD"; "none priced" when the list is empty. */
export const formatMoney = (amounts: readonly Money[]): string =>
  amounts.length === 0 ? 'none priced' : amounts.map((m) => `${m.amount.toFixed(2)} ${m.currency}`).join(' + ');
