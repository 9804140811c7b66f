import { describe, expect, it } from 'vitest';
import { runLicenceChecks } from '../../lib/audit/checks/licence-checks.js';
import type { DirectorySnapshot } from '../../lib/audit/snapshot.js';
import type { LicenseCatalog } from '../../lib/domain/licenses.js';
import type { DirectoryUser, SubscribedSku } from '../../lib/domain/model.js';
import { formatMoney, monthlyCostOf, reclaimableMonthlyTotals, sumByCurrency } from '../../lib/domain/money.js';
import { directoryUser } from '../support/builders.js';

/** The licence checks of SPEC §7 at the edges of each rule, and the money they count. */

const SALES = 'sku-sales'; // an environment licence, priced in EUR
const E3 = 'sku-e3'; // priced in USD, not an environment licence
const catalog: LicenseCatalog = {
  partNumbers: new Map([
    [SALES, 'DYN365_ENTERPRISE_SALES'],
    [E3, 'SPE_E3'],
  ]),
  environmentSkuIds: new Set([SALES]),
  freeDataversePlanSkuIds: new Set(),
  marketingTenantLicense: false,
  prices: new Map([
    [SALES, { monthly: 95, currency: 'EUR' }],
    [E3, { monthly: 36, currency: 'USD' }],
  ]),
};
const NOW = new Date('2026-03-01T00:00:00Z');
const settings = { inactiveDays: 90, licenseHeadroomWarnAt: 1, licensePrices: { SPE_E3: {} } };

function snapshot(users: Partial<DirectoryUser>[], skus: SubscribedSku[] = [], signInActivityAvailable = true): DirectorySnapshot {
  return {
    users: new Map(users.map((u, i) => [u.id ?? `u${i}`, directoryUser({ id: `u${i}`, userPrincipalName: `u${i}@example.com`, assignedSkuIds: [SALES], ...u })])),
    catalog,
    adminRoles: { globalAdministrator: new Set(), powerPlatformAdministrator: new Set(), dynamics365Administrator: new Set() },
    groups: new Map(),
    skus,
    signInActivityAvailable,
  };
}
const signIns = (interactive: string | null, nonInteractive: string | null) => ({
  lastSignInDateTime: interactive,
  lastNonInteractiveSignInDateTime: nonInteractive,
  lastSuccessfulSignInDateTime: interactive,
});
const ids = (users: Partial<DirectoryUser>[], available = true) =>
  runLicenceChecks(snapshot(users, [], available), settings, NOW).map((f) => `${f.checkId} ${f.subjectId} ${f.severity}`);

describe('entra.inactive-licensed-user (L2)', () => {
  it('takes the later of the interactive and non-interactive sign-ins, counted from the audit time', () => {
    expect(
      ids([
        { id: 'old', signInActivity: signIns('2025-11-30T23:59:59Z', null) },
        { id: 'edge', signInActivity: signIns('2025-12-01T00:00:00Z', null) },
        { id: 'service', signInActivity: signIns('2025-01-01T00:00:00Z', '2026-02-01T00:00:00Z') },
      ]),
    ).toEqual(['entra.inactive-licensed-user old warning']);
  });

  it('counts a user who never signed in by the age of the account, and not when the age is unknown', () => {
    expect(
      ids([
        { id: 'old-account', signInActivity: signIns(null, null), createdDateTime: '2025-01-01T00:00:00Z' },
        { id: 'new-account', signInActivity: signIns(null, null), createdDateTime: '2026-02-01T00:00:00Z' },
        { id: 'unknown-age', signInActivity: signIns(null, null), createdDateTime: null },
      ]),
    ).toEqual(['entra.inactive-licensed-user old-account warning']);
  });

  it('leaves out disabled and unlicensed users, and runs not at all when Graph refused signInActivity', () => {
    const old = signIns('2025-01-01T00:00:00Z', null);
    expect(ids([{ id: 'disabled', accountEnabled: false, signInActivity: old }, { id: 'unlicensed', assignedSkuIds: [], signInActivity: old }])).toEqual([]);
    expect(ids([{ id: 'old', signInActivity: old }], false)).toEqual(['entra.sign-in-activity-unavailable signInActivity info']);
  });

  it('prices every licence the user holds, one entry per currency', () => {
    const [finding] = runLicenceChecks(snapshot([{ id: 'old', assignedSkuIds: [SALES, E3, 'unpriced'], signInActivity: signIns('2025-01-01T00:00:00Z', null) }]), settings, NOW);
    expect(finding?.details.monthlyCost).toEqual([
      { currency: 'EUR', amount: 95 },
      { currency: 'USD', amount: 36 },
    ]);
  });
});

describe('entra.license-assignment-error (L3)', () => {
  it('is critical for an environment licence, a warning otherwise, and names the error and the group', () => {
    const findings = runLicenceChecks(
      snapshot([
        {
          id: 'erin',
          signInActivity: signIns('2026-02-28T00:00:00Z', null),
          licenseErrors: [
            { skuId: SALES, error: 'CountViolation', assignedByGroup: 'g-licensing' },
            { skuId: E3, error: 'MutuallyExclusiveViolation', assignedByGroup: null },
          ],
        },
      ]),
      settings,
      NOW,
    );
    expect(findings.map((f) => [f.subjectId, f.severity, f.details.error, f.details.assignedByGroup])).toEqual([
      ['erin:DYN365_ENTERPRISE_SALES', 'critical', 'CountViolation', 'g-licensing'],
      ['erin:SPE_E3', 'warning', 'MutuallyExclusiveViolation', null],
    ]);
  });
});

describe('entra.license-headroom (L4)', () => {
  const sku = (skuId: string, part: string, capabilityStatus: string, enabledUnits: number, consumedUnits: number): SubscribedSku =>
    ({ skuId, skuPartNumber: part, capabilityStatus, enabledUnits, consumedUnits, suspendedUnits: 0, warningUnits: 0 }) as SubscribedSku;
  const headroom = (skus: SubscribedSku[]) => runLicenceChecks(snapshot([], skus), settings, NOW).map((f) => `${f.subjectId} ${f.severity}`);

  it('watches environment licences and priced SKUs only, at each severity branch', () => {
    expect(headroom([sku(SALES, 'DYN365_ENTERPRISE_SALES', 'Enabled', 10, 11)])).toEqual(['DYN365_ENTERPRISE_SALES critical']);
    expect(headroom([sku(SALES, 'DYN365_ENTERPRISE_SALES', 'Enabled', 10, 9)])).toEqual(['DYN365_ENTERPRISE_SALES warning']);
    expect(headroom([sku(SALES, 'DYN365_ENTERPRISE_SALES', 'Enabled', 10, 8)])).toEqual([]);
    expect(headroom([sku(E3, 'SPE_E3', 'Warning', 50, 10)])).toEqual(['SPE_E3 warning']);
    expect(headroom([sku(E3, 'SPE_E3', 'Suspended', 0, 3)])).toEqual(['SPE_E3 critical']);
    expect(headroom([sku('other', 'VISIOCLIENT', 'Enabled', 1, 5)])).toEqual([]);
  });
});

describe('money (SPEC §7)', () => {
  it('adds amounts per currency only, in cents', () => {
    expect(sumByCurrency([{ currency: 'USD', amount: 1 }, { currency: 'EUR', amount: 10.1 }, { currency: 'EUR', amount: 20.2 }])).toEqual([
      { currency: 'EUR', amount: 30.3 },
      { currency: 'USD', amount: 1 },
    ]);
    expect(monthlyCostOf(['unpriced'], catalog.prices)).toEqual([]);
  });

  it('totals the licence-waste findings only, and says so when nothing is priced', () => {
    const cost = (amount: number, currency = 'EUR') => ({ details: { monthlyCost: [{ currency, amount }] } });
    const totals = reclaimableMonthlyTotals([
      { checkId: 'entra.disabled-user-licensed', ...cost(95) },
      { checkId: 'dataverse.administrative-licensed', ...cost(20, 'USD') },
      { checkId: 'dataverse.profile-drift', ...cost(1000) },
    ]);
    expect(totals).toEqual([
      { currency: 'EUR', amount: 95 },
      { currency: 'USD', amount: 20 },
    ]);
    expect(formatMoney(totals)).toBe('95.00 EUR + 20.00 USD');
    expect(formatMoney([])).toBe('none priced');
  });
});
