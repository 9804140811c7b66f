import { describe, expect, it } from 'vitest';
import { DEFAULT_FREE_DATAVERSE_PLAN_SKUS, DEFAULT_MARKETING_TENANT_SKUS } from '../../lib/config/settings.js';
import { evaluateEligibility, type EligibilityInput, type GroupStanding } from '../../lib/domain/eligibility.js';
import { buildLicenseCatalog } from '../../lib/domain/licenses.js';
import type { AdminRole, DirectoryUser, Environment, SubscribedSku, SystemUser } from '../../lib/domain/model.js';
import { EMPTY_PROFILE, directoryUser, environment as domainEnvironment, systemUser } from '../support/builders.js';

/**
 * The rules of seed 002 (D3, D4.1–D4.3, D5, A2, T2/T3, E4) over one user and one environment, pure:
 * one case per branch, each asserting what diagnose shows — verdict, how a missing row would be
 * added, the access mode to expect, and exactly which requirements failed.
 */

const SKU = {
  sales: '0b3a6c1e-0000-4000-8000-000000000001',
  e3: '0b3a6c1e-0000-4000-8000-000000000002',
  marketing: '0b3a6c1e-0000-4000-8000-000000000003',
};
const sku = (skuId: string, skuPartNumber: string): SubscribedSku => ({ skuId, skuPartNumber, capabilityStatus: 'Enabled', consumedUnits: 1, enabledUnits: 10, suspendedUnits: 0, warningUnits: 0 });
const catalogOf = (marketing: boolean) =>
  buildLicenseCatalog([sku(SKU.sales, 'DYN365_ENTERPRISE_SALES'), sku(SKU.e3, 'SPE_E3'), ...(marketing ? [sku(SKU.marketing, 'D365_MARKETING_TENANT')] : [])], {
    environmentLicenseSkus: ['DYN365_ENTERPRISE_SALES'],
    marketingTenantSkus: [...DEFAULT_MARKETING_TENANT_SKUS],
    freeDataversePlanSkus: [...DEFAULT_FREE_DATAVERSE_PLAN_SKUS],
  });

const USER_ID = '5d0c1f0a-1111-4111-8111-000000000001';
const OTHER_ID = '5d0c1f0a-1111-4111-8111-000000000002';
const GROUP_ID = '6e0c1f0a-2222-4222-8222-000000000001';

const user = (over: Partial<DirectoryUser> = {}): DirectoryUser =>
  directoryUser({ id: USER_ID, userPrincipalName: 'rosa@adatum.example', displayName: 'Rosa Bianchi', givenName: 'Rosa', surname: 'Bianchi', assignedSkuIds: [SKU.sales], ...over });

const environment = (over: Partial<Environment> = {}): Environment =>
  domainEnvironment({ id: 'env-1', displayName: 'Adatum Prod', instanceUrl: 'https://adatum.crm.dynamics.com', securityGroupId: GROUP_ID, ...over });

/** Standing in the environment's group "ENV-Adatum-Prod"; a direct member unless told otherwise. */
const standing = (over: Partial<GroupStanding> = {}): GroupStanding => ({
  groupId: GROUP_ID,
  groupName: 'ENV-Adatum-Prod',
  directMember: true,
  owner: false,
  nestedVia: [],
  ...over,
});
const NOT_MEMBER = { directMember: false };

const row = (over: Partial<SystemUser> = {}): SystemUser =>
  systemUser({
    id: '7f0c1f0a-3333-4333-8333-000000000001',
    domainName: 'rosa@adatum.example',
    entraObjectId: USER_ID,
    fullName: 'Rosa Bianchi',
    profile: { ...EMPTY_PROFILE, domainname: 'rosa@adatum.example', firstname: 'Rosa', lastname: 'Bianchi' },
    ...over,
  });

interface Case {
  name: string;
  /** `null`: no Entra account (deleted or never created). */
  user?: Partial<DirectoryUser> | null;
  env?: Partial<Environment>;
  admin?: AdminRole[];
  /** Standing in the security group; ignored when the environment has none. */
  group?: Partial<GroupStanding>;
  row?: Partial<SystemUser>;
  marketing?: boolean;
  eligible: boolean;
  addedBy: 'background-sync' | 'on-demand' | 'none';
  mode: 'administrative' | 'non-interactive' | 'read-write';
  reasons: string[];
  /** Must match the message of the reason with that fact id. */
  message?: [factId: string, pattern: RegExp];
}

const NO_LICENSE = { assignedSkuIds: [] };
const NO_GROUP = { securityGroupId: null };

const cases: Case[] = [
  // Environment types (D1, D5) for an entitled user.
  { name: 'Production, environment license, direct member → background sync', eligible: true, addedBy: 'background-sync', mode: 'read-write', reasons: [] },
  { name: 'Sandbox behaves like Production', env: { type: 'Sandbox' }, eligible: true, addedBy: 'background-sync', mode: 'read-write', reasons: [] },
  { name: 'Default behaves like Production', env: { type: 'Default', ...NO_GROUP }, eligible: true, addedBy: 'background-sync', mode: 'read-write', reasons: [] },
  { name: 'Trial: added on demand only (D5)', env: { type: 'Trial', ...NO_GROUP }, eligible: true, addedBy: 'on-demand', mode: 'read-write', reasons: [] },
  { name: 'Dataverse for Teams: added at first access only (D2, D5)', env: { type: 'Teams', ...NO_GROUP }, eligible: true, addedBy: 'on-demand', mode: 'read-write', reasons: [] },
  { name: 'Developer: its creator is added (D5)', env: { type: 'Developer', createdBy: USER_ID, ...NO_GROUP }, eligible: true, addedBy: 'background-sync', mode: 'read-write', reasons: [] },
  {
    name: 'Developer: anyone else is not (D5)', env: { type: 'Developer', createdBy: OTHER_ID, ...NO_GROUP },
    eligible: false, addedBy: 'none', mode: 'read-write', reasons: ['D5'], message: ['D5', /Developer environment: only its creator/],
  },
  // D3
  {
    name: 'no Dataverse database (D3)', env: { type: 'Default', hasDataverse: false, instanceUrl: null, ...NO_GROUP },
    eligible: false, addedBy: 'none', mode: 'read-write', reasons: ['D3'], message: ['D3', /no Dataverse database/],
  },
  // D4.1
  {
    name: 'Entra account missing: deleted or never created (D4.1)', user: null,
    eligible: false, addedBy: 'none', mode: 'read-write', reasons: ['D4.1'], message: ['D4.1', /does not exist in Microsoft Entra ID/],
  },
  {
    name: 'Entra account disabled (D4.1)', user: { accountEnabled: false },
    eligible: false, addedBy: 'none', mode: 'read-write', reasons: ['D4.1'], message: ['D4.1', /rosa@adatum\.example is disabled in Microsoft Entra ID/],
  },
  // D4.2 and its five exceptions
  {
    name: 'no license and no exception (D4.2)', user: NO_LICENSE,
    eligible: false, addedBy: 'none', mode: 'read-write', reasons: ['D4.2'], message: ['D4.2', /holds no license that entitles/],
  },
  {
    name: 'a license that is not an environment license does not entitle (D4.2)', user: { assignedSkuIds: ['0b3a6c1e-0000-4000-8000-00000000ffff'] },
    eligible: false, addedBy: 'none', mode: 'read-write', reasons: ['D4.2'],
  },
  {
    name: 'guest without a license of this tenant: the home-tenant license does not count (D4.2)', user: { ...NO_LICENSE, userType: 'Guest' },
    eligible: false, addedBy: 'none', mode: 'read-write', reasons: ['D4.2'], message: ['D4.2', /guest.*home tenant does not count/],
  },
  { name: 'guest holding a license of this tenant is entitled', user: { userType: 'Guest' }, eligible: true, addedBy: 'background-sync', mode: 'read-write', reasons: [] },
  {
    name: 'exception i: unlicensed Global administrator → setup user, Administrative (A2)', user: NO_LICENSE, admin: ['globalAdministrator'],
    eligible: true, addedBy: 'background-sync', mode: 'administrative', reasons: [],
  },
  {
    name: 'exception i: a licensed administrator keeps Read-Write (A2 applies only without a license)', admin: ['globalAdministrator'],
    eligible: true, addedBy: 'background-sync', mode: 'read-write', reasons: [],
  },
  {
    name: 'exception ii: environment with pass per app, on demand only', user: NO_LICENSE, env: { passForApps: true },
    eligible: true, addedBy: 'on-demand', mode: 'read-write', reasons: [],
  },
  {
    name: 'pass per app does not make a licensed user on-demand', env: { passForApps: true },
    eligible: true, addedBy: 'background-sync', mode: 'read-write', reasons: [],
  },
  {
    name: 'exception iii: tenant-level marketing license, on demand only', user: NO_LICENSE, marketing: true,
    eligible: true, addedBy: 'on-demand', mode: 'read-write', reasons: [],
  },
  {
    name: 'exception iv: non-interactive row needs no license (T3) and the sync keeps it', user: NO_LICENSE, row: { accessMode: 4 },
    eligible: true, addedBy: 'background-sync', mode: 'non-interactive', reasons: [],
  },
  {
    name: 'T3: security-group rules still apply to a non-interactive user', user: NO_LICENSE, row: { accessMode: 4 }, group: NOT_MEMBER,
    eligible: false, addedBy: 'none', mode: 'non-interactive', reasons: ['D4.3'],
  },
  {
    name: 'T2: an application user row (access mode 4 with applicationid) is not the non-interactive exception', user: NO_LICENSE,
    row: { accessMode: 4, applicationId: '8a0c1f0a-4444-4444-8444-000000000001' },
    eligible: false, addedBy: 'none', mode: 'read-write', reasons: ['D4.2'],
  },
  {
    name: 'exception v: free Dataverse plan of a Microsoft 365 license, on demand only', user: { assignedSkuIds: [SKU.e3] },
    eligible: true, addedBy: 'on-demand', mode: 'read-write', reasons: [],
  },
  // D4.3, E4
  {
    name: 'not a member of the security group (D4.3)', group: NOT_MEMBER,
    eligible: false, addedBy: 'none', mode: 'read-write', reasons: ['D4.3'], message: ['D4.3', /not a direct member of the environment's security group "ENV-Adatum-Prod"/],
  },
  {
    name: 'member only through a nested group, which is ignored (D4.3, E4)', group: { directMember: false, nestedVia: [{ id: 'g-2', displayName: 'Adatum Contractors' }] },
    eligible: false, addedBy: 'none', mode: 'read-write', reasons: ['D4.3'], message: ['D4.3', /through the nested group "Adatum Contractors".*ignored \(E4\)/],
  },
  {
    name: 'owner of the group, not member: counts when added on demand (D4.3)', group: { directMember: false, owner: true },
    eligible: true, addedBy: 'on-demand', mode: 'read-write', reasons: [],
  },
  {
    name: 'Global administrator needs no membership (D4.3)', user: NO_LICENSE, admin: ['globalAdministrator'], group: NOT_MEMBER,
    eligible: true, addedBy: 'background-sync', mode: 'administrative', reasons: [],
  },
  {
    name: 'Power Platform administrator needs no membership (D4.3)', user: NO_LICENSE, admin: ['powerPlatformAdministrator'], group: NOT_MEMBER,
    eligible: true, addedBy: 'background-sync', mode: 'administrative', reasons: [],
  },
  {
    name: 'Dynamics 365 administrator must still be a member (D4.3)', user: NO_LICENSE, admin: ['dynamics365Administrator'], group: NOT_MEMBER,
    eligible: false, addedBy: 'none', mode: 'administrative', reasons: ['D4.3'], message: ['D4.3', /Dynamics 365 administrator.*must be a member/],
  },
  {
    name: 'Dynamics 365 administrator who is a direct member → setup user, Administrative (A2)', user: NO_LICENSE, admin: ['dynamics365Administrator'],
    eligible: true, addedBy: 'background-sync', mode: 'administrative', reasons: [],
  },
  {
    name: 'a Global administrator who owns the group is not on-demand: the exemption applies first (D4.3)', user: NO_LICENSE, admin: ['globalAdministrator'],
    group: { directMember: false, owner: true },
    eligible: true, addedBy: 'background-sync', mode: 'administrative', reasons: [],
  },
  {
    name: 'an unlicensed administrator with a non-interactive row is expected Administrative (A2 before T3)', user: NO_LICENSE, admin: ['powerPlatformAdministrator'],
    row: { accessMode: 4 },
    eligible: true, addedBy: 'background-sync', mode: 'administrative', reasons: [],
  },
  // One reason per failed requirement.
  {
    name: 'every failed requirement is reported', user: { accountEnabled: false, ...NO_LICENSE }, group: NOT_MEMBER,
    eligible: false, addedBy: 'none', mode: 'read-write', reasons: ['D4.1', 'D4.2', 'D4.3'],
  },
  {
    name: 'no Dataverse and no license: both reported', user: NO_LICENSE, env: { type: 'Default', hasDataverse: false, instanceUrl: null, ...NO_GROUP },
    eligible: false, addedBy: 'none', mode: 'read-write', reasons: ['D3', 'D4.2'],
  },
  {
    name: 'a missing account is the one reason: license, group and creator speak of an existing user (D4.1)', user: null,
    env: { type: 'Developer', createdBy: OTHER_ID }, group: NOT_MEMBER,
    eligible: false, addedBy: 'none', mode: 'read-write', reasons: ['D4.1'],
  },
];

function inputOf(c: Case): EligibilityInput {
  const env = environment(c.env);
  return {
    user: c.user === null ? null : user(c.user),
    environment: env,
    catalog: catalogOf(c.marketing ?? false),
    adminRoles: new Set(c.admin ?? []),
    group: env.securityGroupId ? standing(c.group) : null,
    row: c.row ? row(c.row) : null,
  };
}

describe('evaluateEligibility (D3, D4, D5, A2, T2, T3, E4)', () => {
  it.each(cases)('$name', (c) => {
    const result = evaluateEligibility(inputOf(c));
    expect({
      eligible: result.eligible,
      addedBy: result.addedBy,
      mode: result.expectedAccessMode,
      reasons: result.reasons.map((r) => r.factId).sort(),
    }).toEqual({ eligible: c.eligible, addedBy: c.addedBy, mode: c.mode, reasons: [...c.reasons].sort() });
    for (const reason of result.reasons) {
      expect(reason.message.length).toBeGreaterThan(20);
      // The remediation cites the fact it comes from, so an admin can look it up.
      expect(reason.remediation).toContain(reason.factId);
    }
    if (c.message) {
      const [factId, pattern] = c.message;
      expect(result.reasons.find((r) => r.factId === factId)?.message).toMatch(pattern);
    }
  });

  it('names the group when the user is not a member, and tells to add the user directly', () => {
    const result = evaluateEligibility(inputOf({ ...cases[0]!, group: { directMember: false, nestedVia: [{ id: 'g-2', displayName: 'Adatum Contractors' }] } }));
    expect(result.reasons[0]!.remediation).toMatch(/Add the user directly to the security group "ENV-Adatum-Prod"/);
  });

  it('cites E4 in the remediation only when the user is a nested member', () => {
    const nested = evaluateEligibility(inputOf({ ...cases[0]!, group: { directMember: false, nestedVia: [{ id: 'g-2', displayName: null }] } }));
    const outside = evaluateEligibility(inputOf({ ...cases[0]!, group: NOT_MEMBER }));
    expect(nested.reasons[0]!.remediation).toContain('(D4.3, E4)');
    expect(nested.reasons[0]!.message).toContain('nested group "g-2"');
    expect(outside.reasons[0]!.remediation).toContain('(D4.3)');
  });

  it('tells a guest to get a license of this tenant, and a member to get a license with Dataverse', () => {
    const guest = evaluateEligibility(inputOf({ ...cases[0]!, user: { ...NO_LICENSE, userType: 'Guest' } }));
    const member = evaluateEligibility(inputOf({ ...cases[0]!, user: NO_LICENSE }));
    expect(guest.reasons[0]!.remediation).toMatch(/license of this tenant/);
    expect(member.reasons[0]!.remediation).toMatch(/license that includes Dataverse/);
    expect(member.reasons[0]!.message).not.toMatch(/guest/);
  });
});
