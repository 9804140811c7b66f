import { describe, expect, it } from 'vitest';
import {
  isCopilotConnectedApp,
  isCopilotPermissionSet,
  isIntegrationProfileName,
  isIntegrationUsername,
} from '../../lib/domain/copilot-for-sales-names.js';
import type { SalesforceOrgSnapshot } from '../../lib/domain/model.js';
import { evaluateReadiness, type ReadinessCheck } from '../../lib/domain/salesforce-readiness.js';

/**
 * Copilot for Sales S2S readiness (seed 000, SPEC §3), pure: every check, each status it can take,
 * the seed's resolution, and the name variants public Microsoft material adds (`M365 Copilot Sales`
 * prefix, `CopilotForSalesIntegrationProfile`, External Client App), matched ignoring case.
 */

const WARN_AT = 1;

// ── name variants ─────────────────────────────────────────────────────────────────────────────

describe('Copilot for Sales names (seed 000 and its variants, case-insensitive)', () => {
  /** Per predicate: the names it must recognise, and look-alikes it must not. */
  const NAMES: [kind: string, matches: (name: string) => boolean, recognised: string[], refused: string[]][] = [
    [
      'integration username',
      isIntegrationUsername,
      ['copilotforsalesintegrationuser@contoso.sf', 'CopilotForSalesIntegrationUser@Contoso.sf', 'COPILOTFORSALESINTEGRATIONUSER.2@contoso.sf',
        'm365copilotsalesintegrationuser@contoso.sf', 'M365_Copilot_Sales_IntegrationUser@contoso.sf'],
      ['marco@contoso.sf', 'copilotforsales.admin@contoso.sf', 'integrationuser@copilotforsales.sf'],
    ],
    [
      'integration profile name',
      isIntegrationProfileName,
      ['Copilot For Sales Integration Profile', 'CopilotForSalesIntegrationProfile', 'copilot for sales integration profile',
        'COPILOTFORSALESINTEGRATIONPROFILE', 'M365 Copilot Sales Integration Profile'],
      ['Copilot For Sales Integration Profile (old)', 'Standard User'],
    ],
    [
      'connected app / external client app',
      isCopilotConnectedApp,
      ['Copilot for Sales Connected App', 'COPILOT FOR SALES', 'M365 Copilot Sales External Client App'],
      ['Salesforce for Outlook'],
    ],
  ];
  const cases = NAMES.flatMap(([kind, matches, recognised, refused]) => [
    ...recognised.map((name) => [kind, name, true, matches] as const),
    ...refused.map((name) => [kind, name, false, matches] as const),
  ]);

  it.each(cases)('%s %s → %s', (_kind, name, expected, matches) => {
    expect(matches(name)).toBe(expected);
  });

  it.each([
    ['CopilotForSalesPermissionSet', null, true],
    ['X_PS', 'Copilot for Sales permission set', true],
    ['M365CopilotSales_PermissionSet', null, true],
    ['m365 copilot sales access', null, true],
    ['SalesCloudUser', 'Sales Cloud User', false],
  ])('permission set %s / %s → %s', (name, label, expected) => {
    expect(isCopilotPermissionSet(name, label)).toBe(expected);
  });
});

// ── evaluateReadiness ─────────────────────────────────────────────────────────────────────────

/** What an org holds, in Salesforce's words; `snapshot` keeps what the gateway keeps (names decide). */
interface OrgRecords {
  integrationLicense?: { Name: string; MasterLabel?: string; total: number; used: number } | null;
  users?: { Id: string; Username: string; IsActive: boolean; ProfileId?: string }[];
  profiles?: { Id: string; Name: string }[];
  permissionSets?: { Id: string; Name: string; Label?: string }[];
  assignments?: { AssigneeId: string; PermissionSetId: string }[];
  psl?: { DeveloperName: string; total: number; used: number } | null;
  pslAssignees?: string[];
  apps?: string[];
}

const INT_USER = '0055g00000INT01AAA';
const PROFILE = '00e5g000000COP1AAA';
const PS = '0PS5g0000001COPAAA';
const PSL = '0PL5g0000001APIAAA';

/** Mirrors what `getOrgSnapshot` keeps: integration users, profiles, permission sets and apps by name. */
function snapshot(r: OrgRecords): SalesforceOrgSnapshot {
  const license = r.integrationLicense === undefined ? { Name: 'Salesforce Integration', total: 5, used: 1 } : r.integrationLicense;
  const users = (r.users ?? []).filter((u) => isIntegrationUsername(u.Username));
  const userIds = new Set(users.map((u) => u.Id));
  const sets = (r.permissionSets ?? []).filter((p) => isCopilotPermissionSet(p.Name, p.Label ?? null));
  const psl = r.psl === undefined ? { DeveloperName: 'SalesforceAPIIntegrationPsl', total: 5, used: 1 } : r.psl;
  return {
    orgId: '00D5g000004ABCDEAA',
    userLicenses: [
      { id: '1005g000STD', name: 'Salesforce', masterLabel: 'Salesforce', licenseDefinitionKey: 'SFDC', status: 'Active', total: 50, used: 31 },
      ...(license
        ? [{ id: '1005g000INT', name: license.Name, masterLabel: license.MasterLabel ?? license.Name, licenseDefinitionKey: 'SFDC_INTEGRATION', status: 'Active', total: license.total, used: license.used }]
        : []),
    ],
    integrationUsers: users.map((u) => ({ id: u.Id, username: u.Username, isActive: u.IsActive, profileId: u.ProfileId ?? null, userType: 'Standard' })),
    integrationProfiles: (r.profiles ?? [])
      .filter((p) => isIntegrationProfileName(p.Name))
      .map((p) => ({ id: p.Id, name: p.Name, userLicenseId: '1005g000INT', userIds: (r.users ?? []).filter((u) => u.ProfileId === p.Id).map((u) => u.Id) })),
    copilotPermissionSets: sets.map((p) => ({ id: p.Id, name: p.Name, label: p.Label ?? null })),
    permissionSetAssignments: (r.assignments ?? [])
      .filter((a) => userIds.has(a.AssigneeId) && sets.some((s) => s.Id === a.PermissionSetId))
      .map((a, i) => ({ id: `0Pa${i}`, assigneeId: a.AssigneeId, grantedId: a.PermissionSetId })),
    permissionSetLicenses: psl ? [{ id: PSL, developerName: psl.DeveloperName, masterLabel: 'Salesforce API Integration', total: psl.total, used: psl.used }] : [],
    permissionSetLicenseAssignments: (r.pslAssignees ?? []).filter((id) => userIds.has(id)).map((id, i) => ({ id: `2LA${i}`, assigneeId: id, grantedId: PSL })),
    copilotConnectedApps: (r.apps ?? []).filter(isCopilotConnectedApp).map((name, i) => ({ id: `0H4${i}`, name })),
  };
}

/** An org where S2S is enabled and healthy: active integration user with its profile, PSL and app. */
const enabled = (over: Partial<OrgRecords> = {}): OrgRecords => ({
  users: [
    { Id: '0055g00000SAL01AAA', Username: 'marco@contoso.sf', IsActive: true, ProfileId: '00e5g000000STD1AAA' },
    { Id: INT_USER, Username: 'copilotforsalesintegrationuser@contoso.sf', IsActive: true, ProfileId: PROFILE },
  ],
  profiles: [{ Id: PROFILE, Name: 'Copilot For Sales Integration Profile' }],
  permissionSets: [{ Id: PS, Name: 'CopilotForSalesPermissionSet', Label: 'Copilot for Sales permission set' }],
  pslAssignees: [INT_USER],
  apps: ['Copilot for Sales Connected App'],
  ...over,
});

const statuses = (checks: ReadinessCheck[]) => Object.fromEntries(checks.map((c) => [c.id, c.status]));
const check = (checks: ReadinessCheck[], id: ReadinessCheck['id']) => checks.find((c) => c.id === id)!;
const ALL_OK = { S1: 'ok', S2: 'ok', S4: 'ok', S5: 'ok', 'connected-app': 'ok', 'api-integration-psl': 'ok' };

interface Case {
  name: string;
  org: OrgRecords;
  expected: Partial<Record<ReadinessCheck['id'], ReadinessCheck['status']>>;
  /** Message and resolution of the one check that is not ok. */
  says?: [id: ReadinessCheck['id'], message: RegExp, resolution: RegExp];
}

const cases: Case[] = [
  { name: 'a fresh org with headroom is ready', org: {}, expected: {} },
  { name: 'an enabled, healthy org', org: enabled(), expected: {} },
  {
    name: 'S1: integration user inactive', org: enabled({ users: [{ Id: INT_USER, Username: 'copilotforsalesintegrationuser@contoso.sf', IsActive: false, ProfileId: PROFILE }] }),
    expected: { S1: 'problem' },
    says: ['S1', /copilotforsalesintegrationuser@contoso\.sf is inactive/, /username starts with "copilotforsalesintegrationuser" and activate it; if that is impossible, contact Microsoft support/],
  },
  {
    name: 'S1 with the M365 Copilot Sales prefix', org: enabled({ users: [{ Id: INT_USER, Username: 'M365CopilotSalesIntegrationUser@contoso.sf', IsActive: false, ProfileId: PROFILE }] }),
    expected: { S1: 'problem' },
  },
  {
    name: 'S2: no Salesforce Integration license left', org: { integrationLicense: { Name: 'Salesforce Integration', total: 5, used: 5 } },
    expected: { S2: 'problem' },
    says: ['S2', /No Salesforce Integration license left \(5 of 5 used\)/, /Company Information › User Licenses.*Remaining = Total − Used.*deactivate integration users, move them to other license types, or buy more/],
  },
  {
    name: 'S2: only the warn-at headroom left', org: { integrationLicense: { Name: 'Salesforce Integration', total: 3, used: 2 } },
    expected: { S2: 'warning' }, says: ['S2', /Only 1 Salesforce Integration license\(s\) left/, /buy more/],
  },
  { name: 'S2: two left is enough', org: { integrationLicense: { Name: 'Salesforce Integration', total: 3, used: 1 } }, expected: {} },
  {
    name: 'S2: the license is missing', org: { integrationLicense: null },
    expected: { S2: 'problem' }, says: ['S2', /no "Salesforce Integration" user license/, /User Licenses/],
  },
  { name: 'S2: the license name is matched ignoring case', org: { integrationLicense: { Name: 'SALESFORCE INTEGRATION', total: 3, used: 3 } }, expected: { S2: 'problem' } },
  { name: 'S2: the license found by its label', org: { integrationLicense: { Name: 'SFDC_Integration', MasterLabel: 'Salesforce Integration', total: 3, used: 1 } }, expected: {} },
  {
    name: 'S4: the permission set is already assigned', org: enabled({ assignments: [{ AssigneeId: INT_USER, PermissionSetId: PS }] }),
    expected: { S4: 'warning' },
    says: ['S4', /already assigned.*"No changes were made"/, /manual changes to the connected app or to profiles with the "CopilotForSales" prefix; revert them.*retry; if the problem persists, contact Microsoft support/],
  },
  {
    name: 'S4 with an M365 Copilot Sales permission set', org: enabled({ permissionSets: [{ Id: PS, Name: 'M365CopilotSalesPermissionSet' }], assignments: [{ AssigneeId: INT_USER, PermissionSetId: PS }] }),
    expected: { S4: 'warning' },
  },
  { name: 'S4: an assignment of another permission set is not one', org: enabled({ permissionSets: [{ Id: PS, Name: 'SalesCloudUser' }], assignments: [{ AssigneeId: INT_USER, PermissionSetId: PS }] }), expected: {} },
  {
    name: 'S5: the profile name is already in use', org: { profiles: [{ Id: PROFILE, Name: 'Copilot For Sales Integration Profile' }] },
    expected: { S5: 'warning' },
    says: ['S5', /"Copilot For Sales Integration Profile" already exists.*already in use/, /created before enabling S2S, rename it and retry; if it was not created before, contact Microsoft support/],
  },
  { name: 'S5: CopilotForSalesIntegrationProfile variant', org: { profiles: [{ Id: PROFILE, Name: 'CopilotForSalesIntegrationProfile' }] }, expected: { S5: 'warning' } },
  { name: 'S5: M365 Copilot Sales variant, any case', org: { profiles: [{ Id: PROFILE, Name: 'm365 COPILOT sales integration profile' }] }, expected: { S5: 'warning' } },
  { name: 'S5: the profile of the integration user is not a conflict', org: enabled({ profiles: [{ Id: PROFILE, Name: 'CopilotForSalesIntegrationProfile' }] }), expected: {} },
  { name: 'S5: a renamed profile is not a conflict', org: { profiles: [{ Id: PROFILE, Name: 'Copilot For Sales Integration Profile (old)' }] }, expected: {} },
  {
    name: 'connected-app: integration user but no app', org: enabled({ apps: [] }),
    expected: { 'connected-app': 'problem' }, says: ['connected-app', /no Copilot for Sales connected app or External Client App/, /Retry.*contact Microsoft support/],
  },
  { name: 'connected-app: an M365 Copilot Sales External Client App counts', org: enabled({ apps: ['M365 Copilot Sales External Client App'] }), expected: {} },
  { name: 'connected-app: an unrelated app does not count', org: enabled({ apps: ['Salesforce for Outlook'] }), expected: { 'connected-app': 'problem' } },
  {
    name: 'api-integration-psl: the integration user lacks the PSL', org: enabled({ pslAssignees: [] }),
    expected: { 'api-integration-psl': 'problem' }, says: ['api-integration-psl', /no assignment of the "Salesforce API Integration" permission set license/, /Assign the Salesforce API Integration permission set license/],
  },
  {
    name: 'api-integration-psl: no user yet and no seat left', org: { psl: { DeveloperName: 'SalesforceAPIIntegrationPsl', total: 3, used: 3 } },
    expected: { 'api-integration-psl': 'problem' }, says: ['api-integration-psl', /No seat left.*\(3 of 3 used\)/, /free a seat or obtain the license/],
  },
  { name: 'api-integration-psl: no user yet and no PSL', org: { psl: null }, expected: { 'api-integration-psl': 'problem' } },
  { name: 'api-integration-psl: developer name matched ignoring case', org: { psl: { DeveloperName: 'salesforceapiintegrationpsl', total: 3, used: 1 } }, expected: {} },
  {
    name: 'several problems at once', org: { integrationLicense: null, psl: null, profiles: [{ Id: PROFILE, Name: 'CopilotForSalesIntegrationProfile' }] },
    expected: { S2: 'problem', S5: 'warning', 'api-integration-psl': 'problem' },
  },
];

describe('evaluateReadiness (SPEC §3, seed 000)', () => {
  it.each(cases)('$name', (c) => {
    const checks = evaluateReadiness(snapshot(c.org), WARN_AT);
    expect(checks.map((x) => x.id)).toEqual(['S1', 'S2', 'S4', 'S5', 'connected-app', 'api-integration-psl']);
    expect(statuses(checks)).toEqual({ ...ALL_OK, ...c.expected });
    for (const x of checks) {
      expect(x.message.length).toBeGreaterThan(10);
      if (x.status === 'ok') expect(x.resolution).toBe('None needed.');
      else expect(x.resolution).not.toBe('None needed.');
    }
    if (c.says) {
      const [id, message, resolution] = c.says;
      expect(check(checks, id).message).toMatch(message);
      expect(check(checks, id).resolution).toMatch(resolution);
    }
  });

  it('says, when all is well, whether S2S is yet to be enabled or already is', () => {
    const fresh = evaluateReadiness(snapshot({ psl: { DeveloperName: 'SalesforceAPIIntegrationPsl', total: 5, used: 3 } }), WARN_AT);
    expect(check(fresh, 'S1').message).toMatch(/No integration user yet: enabling S2S will create one/);
    expect(check(fresh, 'connected-app').message).toMatch(/deployed when S2S is enabled/);
    expect(check(fresh, 'api-integration-psl').message).toMatch(/available \(2 free\)/);
    const done = evaluateReadiness(snapshot(enabled()), WARN_AT);
    expect(check(done, 'S1').message).toBe('The integration user is active.');
    expect(check(done, 'connected-app').message).toBe('Connected app found: Copilot for Sales Connected App.');
    expect(check(done, 'api-integration-psl').message).toMatch(/integration user has the Salesforce API Integration permission set license/);
  });

  it('warns at the configured headroom', () => {
    const org = snapshot({ integrationLicense: { Name: 'Salesforce Integration', total: 10, used: 7 } });
    expect(check(evaluateReadiness(org, 3), 'S2').status).toBe('warning');
    expect(check(evaluateReadiness(org, 2), 'S2').status).toBe('ok');
  });

  it('cites the seed fact in the resolution of S1, S2, S4 and S5', () => {
    const checks = evaluateReadiness(
      snapshot({
        ...enabled({ users: [{ Id: INT_USER, Username: 'copilotforsalesintegrationuser@contoso.sf', IsActive: false, ProfileId: PROFILE }] }),
        integrationLicense: { Name: 'Salesforce Integration', total: 1, used: 1 },
        assignments: [{ AssigneeId: INT_USER, PermissionSetId: PS }],
        profiles: [{ Id: PROFILE, Name: 'Copilot For Sales Integration Profile' }, { Id: '00e5g000000COP9AAA', Name: 'CopilotForSalesIntegrationProfile' }],
      }),
      WARN_AT,
    );
    for (const id of ['S1', 'S2', 'S4', 'S5'] as const) expect(check(checks, id).resolution).toContain(`(${id})`);
    expect(check(checks, 'S5').message).toContain('CopilotForSalesIntegrationProfile');
  });
});
