import { describe, expect, it } from 'vitest';
import { runEnvironmentChecks } from '../../lib/audit/checks/environment-checks.js';
import { runSalesforceChecks } from '../../lib/audit/checks/salesforce-checks.js';
import type { DirectorySnapshot, EnvironmentData } from '../../lib/audit/snapshot.js';
import type { Finding } from '../../lib/domain/finding.js';
import type { LicenseCatalog } from '../../lib/domain/licenses.js';
import type {
  AdminRole,
  DataverseTeam,
  DirectoryUser,
  Environment,
  GroupMember,
  SalesforceOrgSnapshot,
  SalesforceUserLicense,
  SystemUser,
  SystemUserProfile,
} from '../../lib/domain/model.js';
import { OFFICE, directoryUser, environment as domainEnvironment } from '../support/builders.js';

/** The checks of SPEC §2 over small hand-built snapshots, at the edges of each rule. */

const SALES = 'sku-sales'; // an environment license
const E3 = 'sku-e3'; // a license, not an environment license
const catalog: LicenseCatalog = {
  partNumbers: new Map([
    [SALES, 'DYN365_ENTERPRISE_SALES'],
    [E3, 'SPE_E3'],
  ]),
  environmentSkuIds: new Set([SALES]),
  freeDataversePlanSkuIds: new Set([E3]),
  marketingTenantLicense: false,
  prices: new Map(),
};

function user(id: string, over: Partial<DirectoryUser> = {}): DirectoryUser {
  return directoryUser({
    id,
    userPrincipalName: `${id}@contoso.example`,
    displayName: id,
    givenName: 'Given',
    surname: 'Surname',
    jobTitle: 'Rep',
    mail: `${id}@contoso.example`,
    ...OFFICE.redmond,
    streetAddress: '1 Way',
    assignedSkuIds: [SALES],
    ...over,
  });
}

/** The profile the sync would have written for the user (no drift). */
function syncedProfile(u: DirectoryUser): SystemUserProfile {
  return {
    domainname: u.userPrincipalName,
    firstname: u.givenName,
    lastname: u.surname,
    title: u.jobTitle,
    address1_telephone1: u.businessPhones[0] ?? null,
    mobilephone: u.mobilePhone,
    address1_line1: u.streetAddress,
    address1_city: u.city,
    address1_stateorprovince: u.state,
    address1_country: u.country,
  };
}

function row(u: DirectoryUser | string, over: Partial<Omit<SystemUser, 'profile'>> & { profile?: Partial<SystemUserProfile> } = {}): SystemUser {
  const entra = typeof u === 'string' ? null : u;
  const id = typeof u === 'string' ? u : u.id;
  const { profile, ...rest } = over;
  return {
    id: `row-${id}`,
    domainName: entra?.userPrincipalName ?? `${id}@contoso.example`,
    entraObjectId: entra ? entra.id : null,
    applicationId: null,
    accessMode: 0,
    isDisabled: false,
    isLicensed: true,
    fullName: entra?.displayName ?? id,
    businessUnitId: 'bu-1',
    profile: { ...(entra ? syncedProfile(entra) : syncedProfile(user(id))), ...profile },
    roleIds: ['role-salesperson'],
    ...rest,
  };
}

const environment = (over: Partial<Environment> = {}): Environment =>
  domainEnvironment({ id: 'env-1', displayName: 'Contoso Prod', instanceUrl: 'https://contoso.crm.dynamics.com', securityGroupId: 'group-1', ...over });

function directory(users: DirectoryUser[], options: { members?: GroupMember[]; owners?: string[]; admins?: Partial<Record<AdminRole, string[]>> } = {}): DirectorySnapshot {
  const admins = options.admins ?? {};
  return {
    users: new Map(users.map((u) => [u.id, u])),
    catalog,
    skus: [],
    signInActivityAvailable: true,
    adminRoles: {
      globalAdministrator: new Set(admins.globalAdministrator ?? []),
      powerPlatformAdministrator: new Set(admins.powerPlatformAdministrator ?? []),
      dynamics365Administrator: new Set(admins.dynamics365Administrator ?? []),
    },
    groups: new Map([
      [
        'group-1',
        {
          id: 'group-1',
          displayName: 'ENV-Contoso-Prod',
          members: options.members ?? users.map((u) => ({ id: u.id, kind: 'user' as const, displayName: u.displayName })),
          ownerIds: options.owners ?? [],
        },
      ],
    ]),
  };
}

const memberOf = (...users: DirectoryUser[]): GroupMember[] => users.map((u) => ({ id: u.id, kind: 'user', displayName: u.displayName }));

function check(dir: DirectorySnapshot, systemUsers: SystemUser[], options: { env?: Partial<Environment>; teams?: DataverseTeam[]; warnAt?: number } = {}): Finding[] {
  const data: EnvironmentData = { environment: environment(options.env), systemUsers, teams: options.teams ?? [] };
  return runEnvironmentChecks(dir, data, { nonInteractiveWarnAt: options.warnAt ?? 6 });
}

const only = (findings: Finding[], checkId: string) => findings.filter((f) => f.checkId === checkId);

describe('dataverse.non-interactive-cap (T3)', () => {
  /** n enabled non-interactive users (no license, so nothing else fires for them). */
  const nonInteractive = (n: number, prefix = 'svc') =>
    Array.from({ length: n }, (_, i) => user(`${prefix}-${i}`, { assignedSkuIds: [] }));
  const rowsOf = (users: DirectoryUser[], over: Partial<SystemUser> = {}) => users.map((u) => row(u, { accessMode: 4, roleIds: ['basic'], ...over }));
  const capOf = (systemUsers: SystemUser[], users: DirectoryUser[], warnAt = 6) => only(check(directory(users), systemUsers, { warnAt }), 'dataverse.non-interactive-cap');

  it('is silent at 5, a warning at 6 and critical at 7 with warnAt 6', () => {
    for (const [n, expected] of [
      [5, []],
      [6, ['warning']],
      [7, ['critical']],
      [8, ['critical']],
    ] as const) {
      const users = nonInteractive(n);
      const cap = capOf(rowsOf(users), users);
      expect(cap.map((f) => f.severity), `n = ${n}`).toEqual(expected);
      if (cap[0]) {
        expect(cap[0]).toMatchObject({ targetId: 'env-1', subjectId: 'cap' });
        expect(cap[0].details).toMatchObject({ enabledNonInteractiveUsers: n, cap: 7, warnAt: 6 });
        expect(cap[0].remediation).toContain('T3');
      }
    }
  });

  it('follows the configured warnAt', () => {
    const users = nonInteractive(4);
    expect(capOf(rowsOf(users), users, 4).map((f) => f.severity)).toEqual(['warning']);
    expect(capOf(rowsOf(users), users, 5)).toEqual([]);
  });

  it('does not count application users (T2), however many', () => {
    const users = nonInteractive(5);
    const applicationUsers = Array.from({ length: 4 }, (_, i) =>
      row(`sp-${i}`, { entraObjectId: `sp-${i}`, applicationId: `app-${i}`, accessMode: 4, profile: { firstname: '#' } }),
    );
    expect(capOf([...rowsOf(users), ...applicationUsers], users)).toEqual([]);
  });

  it('does not count disabled non-interactive users', () => {
    const enabled = nonInteractive(5, 'on');
    const disabled = nonInteractive(3, 'off');
    const all = [...enabled, ...disabled];
    expect(capOf([...rowsOf(enabled), ...rowsOf(disabled, { isDisabled: true })], all)).toEqual([]);
    const six = nonInteractive(6, 'on');
    expect(capOf([...rowsOf(six), ...rowsOf(disabled, { isDisabled: true })], [...six, ...disabled]).map((f) => f.severity)).toEqual(['warning']);
  });
});

describe('salesforce.integration-license-headroom (S2)', () => {
  const license = (total: number, used: number, name = 'Salesforce Integration'): SalesforceUserLicense => ({
    id: '100000000000INT',
    name,
    masterLabel: name,
    licenseDefinitionKey: 'SFDC_INTEGRATION',
    status: 'Active',
    total,
    used,
  });
  const org = (userLicenses: SalesforceUserLicense[]): SalesforceOrgSnapshot => ({
    orgId: '00D000000000001AAA',
    userLicenses: [license(20, 9, 'Salesforce'), ...userLicenses],
    integrationUsers: [],
    integrationProfiles: [],
    copilotPermissionSets: [],
    permissionSetAssignments: [],
    permissionSetLicenses: [],
    permissionSetLicenseAssignments: [],
    copilotConnectedApps: [],
  });
  const headroom = (userLicenses: SalesforceUserLicense[], warnAt = 1) =>
    runSalesforceChecks('Contoso SF', org(userLicenses), { salesforceIntegrationLicenseWarnAt: warnAt }).filter((f) => f.checkId === 'salesforce.integration-license-headroom');

  it('is critical with 0 left, a warning with 1 left, silent with 2 left (warnAt 1)', () => {
    expect(headroom([license(3, 3)]).map((f) => f.severity)).toEqual(['critical']);
    expect(headroom([license(3, 2)]).map((f) => f.severity)).toEqual(['warning']);
    expect(headroom([license(3, 1)])).toEqual([]);
    expect(headroom([license(3, 2)])[0]).toMatchObject({ targetId: '00D000000000001AAA', subjectId: 'Salesforce Integration', details: { remaining: 1, total: 3, used: 2 } });
  });

  it('is critical when more are used than bought', () => {
    expect(headroom([license(3, 4)]).map((f) => f.severity)).toEqual(['critical']);
  });

  it('is critical when the org has no Salesforce Integration license at all', () => {
    const found = headroom([]);
    expect(found.map((f) => f.severity)).toEqual(['critical']);
    expect(found[0]!.details).toMatchObject({ license: 'missing' });
    expect(found[0]!.remediation).toContain('S2');
  });

  it('follows the configured warnAt', () => {
    expect(headroom([license(5, 2)], 3).map((f) => f.severity)).toEqual(['warning']);
    expect(headroom([license(5, 2)], 2)).toEqual([]);
  });
});

describe('dataverse.profile-drift (P1)', () => {
  const drift = (u: DirectoryUser, profile: Partial<SystemUserProfile>, over: Partial<SystemUser> = {}) =>
    only(check(directory([u]), [row(u, { profile, ...over })]), 'dataverse.profile-drift');

  it('treats null, "" and an absent value as equal', () => {
    const u = user('u1', { mobilePhone: null, jobTitle: '' });
    expect(drift(u, { mobilephone: '', title: null })).toEqual([]);
    expect(drift(user('u2', { mobilePhone: '' }), { mobilephone: null })).toEqual([]);
  });

  it('compares trimmed values', () => {
    expect(drift(user('u1', { city: '  Redmond ' }), { address1_city: 'Redmond\t' })).toEqual([]);
  });

  it('reports a field that really differs, naming it', () => {
    const found = drift(user('u1', { jobTitle: 'Sales Manager' }), { title: 'Account Manager' });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ targetId: 'env-1', subjectId: 'u1', severity: 'info' });
    expect(found[0]!.details.differences).toEqual([{ field: 'jobTitle', systemuserField: 'title', entra: 'Sales Manager', dataverse: 'Account Manager' }]);
    // A value on one side only is a difference too.
    expect(drift(user('u2', { mobilePhone: '+1 555' }), { mobilephone: null })).toHaveLength(1);
  });

  it('ignores the fields the sync does not keep (full name, e-mail)', () => {
    expect(drift(user('u1'), {}, { fullName: 'Someone Else' })).toEqual([]);
  });

  it('only looks at regular systemusers', () => {
    const u = user('u1', { jobTitle: 'Sales Manager' });
    const application = row(u, { applicationId: 'app-1', accessMode: 4, profile: { title: 'other' } });
    const support = row(u, { accessMode: 3, profile: { title: 'other' } });
    expect(only(check(directory([u]), [application]), 'dataverse.profile-drift')).toEqual([]);
    expect(only(check(directory([u]), [support]), 'dataverse.profile-drift')).toEqual([]);
  });
});

describe('dataverse.enabled-user-without-role (U3)', () => {
  const u = user('u1');
  const withoutRole = (over: Partial<SystemUser>, teams: DataverseTeam[] = []) =>
    only(check(directory([u]), [row(u, { roleIds: [], ...over })], { teams }), 'dataverse.enabled-user-without-role');
  const team = (roleIds: string[], memberIds = ['row-u1']): DataverseTeam => ({ id: 'team-1', name: 'Sales', roleIds, memberIds });

  it('reports an enabled read-write user with no role, directly or through a team', () => {
    const found = withoutRole({});
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ targetId: 'env-1', subjectId: 'u1', severity: 'info' });
    expect(found[0]!.remediation).toContain('U3');
  });

  it('a role through a team is enough', () => {
    expect(withoutRole({}, [team(['role-salesperson'])])).toEqual([]);
  });

  it('a team without roles is not', () => {
    expect(withoutRole({}, [team([])])).toHaveLength(1);
    expect(withoutRole({}, [team(['role-salesperson'], ['row-someone-else'])])).toHaveLength(1);
  });

  it('a direct role is enough', () => {
    expect(withoutRole({ roleIds: ['role-salesperson'] })).toEqual([]);
  });

  it('ignores disabled rows and other access modes', () => {
    expect(withoutRole({ isDisabled: true })).toEqual([]);
    expect(withoutRole({ accessMode: 1 })).toEqual([]);
  });
});

describe('dataverse.eligible-user-missing (D1, D5)', () => {
  const missing = (users: DirectoryUser[], env: Partial<Environment>, options: { members?: GroupMember[]; admins?: Partial<Record<AdminRole, string[]>>; rows?: SystemUser[] } = {}) =>
    only(check(directory(users, { members: options.members, admins: options.admins }), options.rows ?? [], { env }), 'dataverse.eligible-user-missing');
  const hal = user('hal');

  it('reports an entitled direct member without a row in Production, Sandbox and Default environments', () => {
    for (const type of ['Production', 'Sandbox', 'Default'] as const) {
      const found = missing([hal], { type });
      expect(found.map((f) => [f.targetId, f.subjectId, f.severity]), type).toEqual([['env-1', 'hal', 'info']]);
    }
  });

  it('says nothing for Trial, Developer and Teams environments (added on demand only)', () => {
    for (const type of ['Trial', 'Developer', 'Teams'] as const) {
      expect(missing([hal], { type }), type).toEqual([]);
    }
  });

  it('says nothing for an environment without a security group', () => {
    expect(missing([hal], { securityGroupId: null })).toEqual([]);
  });

  it('needs an enabled account and an environment license, or an admin role', () => {
    expect(missing([user('off', { accountEnabled: false })], {})).toEqual([]);
    expect(missing([user('e3', { assignedSkuIds: [E3] })], {})).toEqual([]);
    const admin = user('lee', { assignedSkuIds: [] });
    expect(missing([admin], {}, { admins: { globalAdministrator: ['lee'] } }).map((f) => f.subjectId)).toEqual(['lee']);
  });

  it('says nothing when the user has a row, even a disabled one', () => {
    expect(missing([hal], {}, { rows: [row(hal, { isDisabled: true })] })).toEqual([]);
  });

  it('looks at direct user members only (nested groups are ignored, E4)', () => {
    const members: GroupMember[] = [{ id: 'nested-group', kind: 'group', displayName: 'Contractors' }];
    expect(missing([hal], {}, { members })).toEqual([]);
    expect(missing([hal, user('ann')], {}, { members: memberOf(hal) }).map((f) => f.subjectId)).toEqual(['hal']);
  });
});
