import { generateKeyPairSync } from 'node:crypto';
import { Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SalesforceOrgSnapshot } from '../../lib/domain/model.js';
import type { RetryPolicy } from '../../lib/gateways/http/retry.js';
import { isServiceError, type ServiceError } from '../../lib/gateways/http/service-error.js';
import { gatewayOptions } from '../../lib/composition.js';
import type { Settings } from '../../lib/config/settings.js';
import { JsforceSalesforceGateway, type JsforceSalesforceGatewayOptions } from '../../lib/gateways/salesforce/operations.js';
import { generateTenant, salesforceId } from '../../simulator/core/generate.js';
import type { RequestRecord } from '../../simulator/index.js';
import type { Fixture } from '../../simulator/core/fixture.js';
import { apiIntegrationPsl, fastRetry, fixtureOf, salesforceLicense, salesforceOrgRecord, salesforceUser } from '../support/builders.js';
import { startTestTenant, type TestTenant } from '../support/tenant.js';

/** The gateway as the composition root builds it from the settings, with the test's own retries. */
const salesforceGateway = (settings: Settings, options: Partial<JsforceSalesforceGatewayOptions>) =>
  new JsforceSalesforceGateway({ ...gatewayOptions(settings).salesforce, ...options });

// ── Fixtures ─────────────────────────────────────────────────────────────────────────────────

/** The first org of contoso.json: inactive integration user, Salesforce Integration 5/5. */
const CONTOSO = '00D5g000004ABCDEAA';
const contosoOrg = () =>
  salesforceOrgRecord(CONTOSO, 'Contoso Sales (Salesforce)', {
    userLicenses: [salesforceLicense('1005g000STD', 'standard', 50, 31), salesforceLicense('1005g000INT', 'integration', 5, 5)],
    users: [
      salesforceUser('0055g00000SAL01AAA', 'marco@contoso.sf', true, '00e5g000000STD1AAA'),
      salesforceUser('0055g00000INT01AAA', 'copilotforsalesintegrationuser@contoso.sf', false, '00e5g000000COP1AAA'),
    ],
    profiles: [{ Id: '00e5g000000COP1AAA', Name: 'Copilot For Sales Integration Profile', UserLicenseId: '1005g000INT' }],
    permissionSets: [{ Id: '0PS5g0000001COPAAA', Name: 'CopilotForSalesPermissionSet', Label: 'Copilot for Sales permission set' }],
    permissionSetAssignments: [{ Id: '0Pa5g0000001COPAAA', AssigneeId: '0055g00000INT01AAA', PermissionSetId: '0PS5g0000001COPAAA' }],
    permissionSetLicenses: [apiIntegrationPsl('0PL5g0000001APIAAA', 5, 5)],
    permissionSetLicenseAssignments: [{ Id: '2LA5g0000001APIAAA', AssigneeId: '0055g00000INT01AAA', PermissionSetLicenseId: '0PL5g0000001APIAAA' }],
    connectedApplications: [{ Id: '0H45g0000001COPAAA', Name: 'Copilot for Sales Connected App' }],
  });

const contosoSnapshot: SalesforceOrgSnapshot = {
  orgId: CONTOSO,
  userLicenses: [
    { id: '1005g000STD', name: 'Salesforce', masterLabel: 'Salesforce', licenseDefinitionKey: 'SFDC', status: 'Active', total: 50, used: 31 },
    { id: '1005g000INT', name: 'Salesforce Integration', masterLabel: 'Salesforce Integration', licenseDefinitionKey: 'SFDC_INTEGRATION', status: 'Active', total: 5, used: 5 },
  ],
  integrationUsers: [
    { id: '0055g00000INT01AAA', username: 'copilotforsalesintegrationuser@contoso.sf', isActive: false, profileId: '00e5g000000COP1AAA', userType: 'Standard' },
  ],
  integrationProfiles: [
    { id: '00e5g000000COP1AAA', name: 'Copilot For Sales Integration Profile', userLicenseId: '1005g000INT', userIds: ['0055g00000INT01AAA'] },
  ],
  copilotPermissionSets: [{ id: '0PS5g0000001COPAAA', name: 'CopilotForSalesPermissionSet', label: 'Copilot for Sales permission set' }],
  permissionSetAssignments: [{ id: '0Pa5g0000001COPAAA', assigneeId: '0055g00000INT01AAA', grantedId: '0PS5g0000001COPAAA' }],
  permissionSetLicenses: [
    { id: '0PL5g0000001APIAAA', developerName: 'SalesforceAPIIntegrationPsl', masterLabel: 'Salesforce API Integration', total: 5, used: 5 },
  ],
  permissionSetLicenseAssignments: [{ id: '2LA5g0000001APIAAA', assigneeId: '0055g00000INT01AAA', grantedId: '0PL5g0000001APIAAA' }],
  copilotConnectedApps: [{ id: '0H45g0000001COPAAA', name: 'Copilot for Sales Connected App' }],
};

/** A newer org: `M365 Copilot Sales` names in mixed case, next to look-alikes that must not count. */
const TAILSPIN = '00D5g00000TAILSEAA';
const tailspinOrg = () => ({
  ...salesforceOrgRecord(TAILSPIN, 'Tailspin (Salesforce)'),
  userLicenses: [salesforceLicense('100TS0000000INTAAA', 'integration', 3, 1)],
  users: [
    salesforceUser('005TS0000000INTAAA', 'M365CopilotSalesIntegrationUser@tailspin.sf', true, '00eTS0000000COPAAA'),
    ...[
      ['FAN', 'm365copilot.fan@tailspin.sf'],
      ['OBR', "o'brien@tailspin.sf"],
      ['OBN', 'obrien@tailspin.sf'],
      ['BSL', 'back\\slash@tailspin.sf'],
      ['ADM', 'admin@tailspin.sf'],
    ].map(([id, username]) => salesforceUser(`005TS0000000${id}AAA`, username!, true, '00eTS0000000STDAAA')),
  ],
  profiles: [
    { Id: '00eTS0000000COPAAA', Name: 'CopilotForSalesIntegrationProfile', UserLicenseId: '100TS0000000INTAAA' },
    { Id: '00eTS0000000OLDAAA', Name: 'M365 Copilot Sales Integration Profile', UserLicenseId: '100TS0000000INTAAA' },
    { Id: '00eTS0000000STDAAA', Name: 'Copilot Sales Team Profile', UserLicenseId: null },
  ],
  permissionSets: [
    { Id: '0PSTS0000000COPAAA', Name: 'M365CopilotSalesPermissionSet', Label: 'M365 Copilot Sales' },
    { Id: '0PSTS0000000TOLAAA', Name: 'MyCopilotSalesTool', Label: 'My Copilot Sales tool' },
    { Id: '0PSTS0000000PRFAAA', Name: 'X00eTS0000000COPAAA', Label: 'copilotforsales profile', IsOwnedByProfile: true },
  ],
  permissionSetAssignments: [
    { Id: '0PaTS0000000COPAAA', AssigneeId: '005TS0000000INTAAA', PermissionSetId: '0PSTS0000000COPAAA' },
    { Id: '0PaTS0000000TOLAAA', AssigneeId: '005TS0000000INTAAA', PermissionSetId: '0PSTS0000000TOLAAA' },
    { Id: '0PaTS0000000FANAAA', AssigneeId: '005TS0000000FANAAA', PermissionSetId: '0PSTS0000000COPAAA' },
  ],
  permissionSetLicenses: [apiIntegrationPsl('0PLTS0000000APIAAA', 3, 1)],
  connectedApplications: [
    { Id: '0H4TS0000000COPAAA', Name: 'M365 Copilot Sales External Client App' },
    { Id: '0H4TS0000000OTHAAA', Name: 'Sales Copilot Companion' },
  ],
});

/** An inactive integration user with seats left on its license. */
const FABRIKAM = '00D5g00000FABRKEAA';
const fabrikamOrg = () =>
  salesforceOrgRecord(FABRIKAM, 'Fabrikam (Salesforce)', {
    userLicenses: [salesforceLicense('100FB0000000INTAAA', 'integration', 3, 1)],
    users: [salesforceUser('005FB0000000INTAAA', 'copilotforsalesintegrationuser@fabrikam.sf', false, '00eFB0000000COPAAA')],
    profiles: [{ Id: '00eFB0000000COPAAA', Name: 'Copilot For Sales Integration Profile', UserLicenseId: '100FB0000000INTAAA' }],
  });

const fixture = (salesforceOrgs: Fixture['salesforceOrgs'], faults?: Fixture['faults']) =>
  fixtureOf({ tenant: { id: '9c1b6f0e-5b7a-4c63-9a55-1f0c1d2e3f40' }, salesforceOrgs, ...(faults ? { faults } : {}) });

/** Quick retries: the tests prove what is retried, not how long p-retry waits. */
const FAST_RETRY: RetryPolicy = fastRetry({ maxDelayMs: 20, maxRetryAfterMs: 5_000 });

const salesforceRequests = (tenant: TestTenant, orgId: string): RequestRecord[] =>
  tenant.sim.requests.filter((r) => r.host === `salesforce:${orgId}`);

/** The SOQL text of each query request (first pages only). */
const soqlSent = (records: RequestRecord[]): string[] =>
  records.filter((r) => r.url.includes('/query?q=')).map((r) => new URL(r.url, 'https://sim').searchParams.get('q') ?? '');

async function failureOf(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    if (isServiceError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

// ── Tests ────────────────────────────────────────────────────────────────────────────────────

describe('jsforce against the simulated org', () => {
  // 4,500 users: 4,499 reps and the integration user.
  const big = generateTenant({ users: 0, environments: 0, systemusersPerEnvironment: 0, salesforceOrgs: 1, salesforceUsersPerOrg: 4_499 });
  const bigOrg = big.salesforceOrgs[0]!;
  let tenant: TestTenant;

  beforeAll(async () => {
    tenant = await startTestTenant(big);
  });
  afterAll(() => tenant?.stop());

  it('authorizes with client credentials and reads a 3-page SOQL result with queryMore', async () => {
    const org = tenant.settings.salesforceOrgs[0]!;
    const connection = new Connection({ oauth2: { loginUrl: org.loginUrl, clientId: org.clientId, clientSecret: org.clientSecret }, version: '62.0' });
    const user = await connection.authorize({ grant_type: 'client_credentials' });
    expect(user.organizationId).toBe(bigOrg.id);
    expect(connection.instanceUrl).toBe(tenant.sim.urls.salesforce[bigOrg.id]);

    const result = await connection.query<{ Id: string; Username: string }>('SELECT Id, Username FROM User').execute({ autoFetch: true, maxFetch: 100_000 });
    expect(result.totalSize).toBe(4_500);
    expect(result.records).toHaveLength(4_500);
    expect(new Set(result.records.map((r) => r.Id))).toEqual(new Set(bigOrg.users.map((u) => u.Id)));
    expect(result.records[0]).toMatchObject({ attributes: { type: 'User', url: `/services/data/v62.0/sobjects/User/${bigOrg.users[0]!.Id}` } });

    const seen = salesforceRequests(tenant, bigOrg.id).map((r) => `${r.method} ${r.url.replace(/\?.*/, '?…')} ${r.status}`);
    expect(seen[0]).toBe('POST /services/oauth2/token 200');
    expect(seen.slice(1)).toEqual([
      'GET /services/data/v62.0/query?… 200',
      expect.stringMatching(/^GET \/services\/data\/v62\.0\/query\/01g[0-9A-Z]{15}-2000 200$/),
      expect.stringMatching(/^GET \/services\/data\/v62\.0\/query\/01g[0-9A-Z]{15}-4000 200$/),
    ]);
  });

  it('speaks the rest of what jsforce sends: versions, limits, retrieve, update and its errors', async () => {
    const org = tenant.settings.salesforceOrgs[0]!;
    const connection = new Connection({ oauth2: { loginUrl: org.loginUrl, clientId: org.clientId, clientSecret: org.clientSecret }, version: '62.0' });
    await connection.authorize({ grant_type: 'client_credentials' });

    const versions = await connection.request<{ version: string; url: string }[]>('/services/data/');
    expect(versions).toContainEqual({ label: "Winter '25", url: '/services/data/v62.0', version: '62.0' });
    const limits = await connection.limits();
    expect(limits.DailyApiRequests?.Max).toBe(15_000);
    expect(limits.DailyApiRequests?.Remaining).toBeLessThan(15_000);

    const integration = bigOrg.users.at(-1)!;
    const record = await connection.sobject('User').retrieve(integration.Id);
    expect(record).toMatchObject({ Id: integration.Id, Username: integration.Username, IsActive: true });
    await connection.sobject('User').update({ Id: integration.Id, IsActive: false });
    expect(tenant.sim.state.salesforceOrgs[0]!.users.at(-1)!.IsActive).toBe(false);

    await expect(connection.query('SELECT Id FROM User WHERE').execute()).rejects.toMatchObject({ errorCode: 'MALFORMED_QUERY' });
    await expect(connection.query('SELECT Nickname FROM User').execute()).rejects.toMatchObject({ errorCode: 'INVALID_FIELD' });
    await expect(connection.query('SELECT Id FROM PermissionSetLicenseAssignment').execute()).rejects.toMatchObject({ errorCode: 'INVALID_TYPE' });
    await expect(connection.query('SELECT Id FROM PermissionSetLicenseAssign').execute()).resolves.toMatchObject({ done: true });
    await expect(connection.sobject('User').retrieve('005000000000000AAA')).rejects.toMatchObject({ errorCode: 'NOT_FOUND' });

    const stranger = new Connection({ oauth2: { loginUrl: org.loginUrl, clientId: org.clientId, clientSecret: 'wrong' } });
    await expect(stranger.authorize({ grant_type: 'client_credentials' })).rejects.toMatchObject({ name: 'invalid_client', message: 'invalid client credentials' });
  });

  it('gateway: reads every page of a snapshot query (4,500 candidate users → 3 pages)', async () => {
    // Turn 4,000 reps into integration-user look-alikes, so the candidates query spans 3 pages.
    const org = tenant.sim.state.salesforceOrgs[0]!;
    org.users.slice(0, 4_000).forEach((u, i) => (u.Username = `copilotforsalesintegrationuser${i}@org0.sf`));
    org.users.slice(4_000, 4_300).forEach((u, i) => (u.Username = `m365copilot.fan${i}@org0.sf`));
    const gateway = salesforceGateway(tenant.settings, { retry: FAST_RETRY });
    const before = salesforceRequests(tenant, bigOrg.id).length;

    const snapshot = await gateway.getOrgSnapshot(bigOrg.id);

    const expected = org.users.filter((u) => u.Username.startsWith('copilotforsalesintegrationuser')).map((u) => u.Id);
    expect(expected).toHaveLength(4_001);
    expect(snapshot.integrationUsers.map((u) => u.id).sort()).toEqual([...expected].sort());
    const pages = salesforceRequests(tenant, bigOrg.id).slice(before).filter((r) => /\/query\/01g[0-9A-Z]+-\d+$/.test(r.url));
    expect(pages.map((r) => r.url.split('-').pop())).toEqual(expect.arrayContaining(['2000', '4000']));
    // The integration user's license assignment came back through chunked IN lists (4,001 ids).
    expect(snapshot.permissionSetLicenseAssignments).toEqual([
      { id: salesforceId('2LA', bigOrg.id, 'api'), assigneeId: salesforceId('005', bigOrg.id, 'integration'), grantedId: salesforceId('0PL', bigOrg.id, 'api') },
    ]);
  });
});

describe('getOrgSnapshot and user operations', () => {
  let tenant: TestTenant;
  let gateway: JsforceSalesforceGateway;

  beforeAll(async () => {
    tenant = await startTestTenant(fixture([contosoOrg(), tailspinOrg(), fabrikamOrg()]));
    gateway = salesforceGateway(tenant.settings, { retry: FAST_RETRY });
  });
  afterAll(() => tenant?.stop());

  it('reads the first contoso org: inactive integration user, 5/5 licenses, profile, assignments, PSL, connected app', async () => {
    expect(gateway.orgIds()).toEqual([CONTOSO, TAILSPIN, FABRIKAM]);
    expect(gateway.orgName(CONTOSO)).toBe('Contoso Sales (Salesforce)');
    expect(gateway.orgName('00D000000000000AAA')).toBeNull();

    expect(await gateway.getOrgSnapshot(CONTOSO)).toEqual(contosoSnapshot);

    const requests = salesforceRequests(tenant, CONTOSO);
    expect(requests.filter((r) => r.url === '/services/oauth2/token')).toHaveLength(1);
    expect(requests.every((r) => r.status === 200)).toBe(true);
    const objects = soqlSent(requests).map((q) => /FROM (\w+)/.exec(q)?.[1]);
    expect(new Set(objects)).toEqual(
      new Set(['UserLicense', 'User', 'Profile', 'PermissionSet', 'PermissionSetAssignment', 'PermissionSetLicense', 'PermissionSetLicenseAssign', 'ConnectedApplication']),
    );

    // The session is reused.
    await gateway.getOrgSnapshot(CONTOSO);
    expect(salesforceRequests(tenant, CONTOSO).filter((r) => r.url === '/services/oauth2/token')).toHaveLength(1);
  });

  it('matches the newer M365 Copilot Sales names case-insensitively and leaves look-alikes out', async () => {
    const snapshot = await gateway.getOrgSnapshot(TAILSPIN);
    expect(snapshot.integrationUsers.map((u) => u.username)).toEqual(['M365CopilotSalesIntegrationUser@tailspin.sf']);
    expect(snapshot.integrationProfiles).toEqual([
      { id: '00eTS0000000COPAAA', name: 'CopilotForSalesIntegrationProfile', userLicenseId: '100TS0000000INTAAA', userIds: ['005TS0000000INTAAA'] },
      { id: '00eTS0000000OLDAAA', name: 'M365 Copilot Sales Integration Profile', userLicenseId: '100TS0000000INTAAA', userIds: [] },
    ]);
    expect(snapshot.copilotPermissionSets).toEqual([{ id: '0PSTS0000000COPAAA', name: 'M365CopilotSalesPermissionSet', label: 'M365 Copilot Sales' }]);
    expect(snapshot.permissionSetAssignments).toEqual([{ id: '0PaTS0000000COPAAA', assigneeId: '005TS0000000INTAAA', grantedId: '0PSTS0000000COPAAA' }]);
    expect(snapshot.permissionSetLicenseAssignments).toEqual([]);
    expect(snapshot.copilotConnectedApps).toEqual([{ id: '0H4TS0000000COPAAA', name: 'M365 Copilot Sales External Client App' }]);
  });

  it('escapes values placed into SOQL: a quote in a username cannot change the query', async () => {
    const found = await gateway.findUserByUsername(TAILSPIN, "o'brien@tailspin.sf");
    expect(found).toEqual({ id: '005TS0000000OBRAAA', username: "o'brien@tailspin.sf", isActive: true, profileId: '00eTS0000000STDAAA', userType: 'Standard' });
    expect(await gateway.findUserByUsername(TAILSPIN, 'back\\slash@tailspin.sf')).toMatchObject({ id: '005TS0000000BSLAAA' });
    expect(await gateway.findUserByUsername(TAILSPIN, "x' OR Username LIKE '%")).toBeNull();

    const sent = soqlSent(salesforceRequests(tenant, TAILSPIN)).filter((q) => q.includes('Username ='));
    expect(sent).toEqual([
      "SELECT Id, Username, IsActive, ProfileId, UserType FROM User WHERE Username = 'o\\'brien@tailspin.sf'",
      "SELECT Id, Username, IsActive, ProfileId, UserType FROM User WHERE Username = 'back\\\\slash@tailspin.sf'",
      "SELECT Id, Username, IsActive, ProfileId, UserType FROM User WHERE Username = 'x\\' OR Username LIKE \\'%'",
    ]);
  });

  it('activateUser sets IsActive in Salesforce and takes a license seat; getUser reads it back', async () => {
    const user = () => tenant.sim.state.salesforceOrgs.find((o) => o.id === FABRIKAM)!.users[0]!;
    const license = () => tenant.sim.state.salesforceOrgs.find((o) => o.id === FABRIKAM)!.userLicenses[0]!;
    expect(await gateway.getUser(FABRIKAM, '005FB0000000INTAAA')).toMatchObject({ isActive: false });

    await gateway.activateUser(FABRIKAM, '005FB0000000INTAAA');

    expect(user().IsActive).toBe(true);
    expect(license().UsedLicenses).toBe(2);
    expect(await gateway.getUser(FABRIKAM, '005FB0000000INTAAA')).toEqual({
      id: '005FB0000000INTAAA',
      username: 'copilotforsalesintegrationuser@fabrikam.sf',
      isActive: true,
      profileId: '00eFB0000000COPAAA',
      userType: 'Standard',
    });
    const patch = salesforceRequests(tenant, FABRIKAM).find((r) => r.method === 'PATCH');
    expect(patch).toMatchObject({ url: '/services/data/v62.0/sobjects/User/005FB0000000INTAAA', status: 204 });
  });

  it('reports what Salesforce refuses: no seat left, unknown user, unknown org', async () => {
    const full = await failureOf(gateway.activateUser(CONTOSO, '0055g00000INT01AAA'));
    expect(full).toMatchObject({ service: 'salesforce', operation: 'activateUser', target: CONTOSO, status: 400, code: 'LICENSE_LIMIT_EXCEEDED' });
    expect(tenant.sim.state.salesforceOrgs[0]!.users[1]!.IsActive).toBe(false);

    const missing = await failureOf(gateway.activateUser(CONTOSO, '005000000000000AAA'));
    expect(missing).toMatchObject({ status: 404, code: 'NOT_FOUND', isNotFound: true });
    expect(await gateway.getUser(CONTOSO, '005000000000000AAA')).toBeNull();
    expect(await gateway.getUser(CONTOSO, '../../limits')).toBeNull();

    const unknown = await failureOf(gateway.getOrgSnapshot('00D000000000000AAA'));
    expect(unknown).toMatchObject({ service: 'salesforce', operation: 'getOrgSnapshot', target: '00D000000000000AAA', status: 404 });
  });

  it('authorizes again, once, when Salesforce says the session is no longer valid', async () => {
    // The session the client holds for the org (private to it): revoked behind its back.
    const client = (gateway as unknown as { salesforce: { orgs: Map<string, { connection: Connection }> } }).salesforce;
    const connection = client.orgs.get(CONTOSO)!.connection;
    connection.accessToken = 'revoked-session';
    const before = salesforceRequests(tenant, CONTOSO).length;

    expect(await gateway.getUser(CONTOSO, '0055g00000INT01AAA')).toMatchObject({ isActive: false });

    const seen = salesforceRequests(tenant, CONTOSO).slice(before).map((r) => `${r.method} ${r.url.replace(/\?.*/, '')} ${r.status}`);
    expect(seen).toEqual([
      'GET /services/data/v62.0/sobjects/User/0055g00000INT01AAA 401',
      'POST /services/oauth2/token 200',
      'GET /services/data/v62.0/sobjects/User/0055g00000INT01AAA 200',
    ]);
  });

  it('refuses wrong client credentials without retrying and without echoing the secret', async () => {
    const org = tenant.settings.salesforceOrgs.find((o) => o.id === FABRIKAM)!;
    const wrong = new JsforceSalesforceGateway({ orgs: [{ ...org, clientSecret: 'not-the-secret' }], retry: FAST_RETRY });
    const before = salesforceRequests(tenant, FABRIKAM).length;

    const error = await failureOf(wrong.getUser(FABRIKAM, '005FB0000000INTAAA'));

    expect(error).toMatchObject({ service: 'salesforce', operation: 'getUser', target: FABRIKAM, status: 400, code: 'invalid_client' });
    expect(error.message).not.toContain('not-the-secret');
    expect(salesforceRequests(tenant, FABRIKAM).slice(before)).toHaveLength(1);
  });

  it('authorizes with the JWT bearer flow, signing the assertion with the configured key', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const org = tenant.settings.salesforceOrgs.find((o) => o.id === TAILSPIN)!;
    const jwt = { id: org.id, name: org.name, loginUrl: org.loginUrl, clientId: org.clientId, auth: 'jwt-bearer' as const, privateKey: pem.replace(/\n/g, '\\n') };

    const viaJwt = new JsforceSalesforceGateway({ orgs: [{ ...jwt, username: 'admin@tailspin.sf' }], retry: FAST_RETRY });
    expect(await viaJwt.findUserByUsername(TAILSPIN, 'ADMIN@tailspin.sf')).toMatchObject({ id: '005TS0000000ADMAAA' });

    const unknownUser = new JsforceSalesforceGateway({ orgs: [{ ...jwt, username: 'nobody@tailspin.sf' }], retry: FAST_RETRY });
    expect(await failureOf(unknownUser.findUserByUsername(TAILSPIN, 'admin@tailspin.sf'))).toMatchObject({ status: 400, code: 'invalid_grant' });
    const otherApp = new JsforceSalesforceGateway({ orgs: [{ ...jwt, clientId: '3MVG9other', username: 'admin@tailspin.sf' }], retry: FAST_RETRY });
    expect(await failureOf(otherApp.findUserByUsername(TAILSPIN, 'admin@tailspin.sf'))).toMatchObject({ status: 400, code: 'invalid_client_id' });
  });
});

describe('throttling', () => {
  let tenant: TestTenant;

  beforeAll(async () => {
    tenant = await startTestTenant(fixture([contosoOrg()], { seed: 5, salesforce: { throttleRate: 0.3, retryAfterSeconds: 0 } }));
  });
  afterAll(() => tenant?.stop());

  it('answers a complete, correct snapshot when 30% of the calls are throttled', async () => {
    const gateway = salesforceGateway(tenant.settings, { retry: FAST_RETRY });

    expect(await gateway.getOrgSnapshot(CONTOSO)).toEqual(contosoSnapshot);

    const statuses = salesforceRequests(tenant, CONTOSO).map((r) => r.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);
    expect(statuses.filter((s) => s !== 429 && s !== 200)).toEqual([]);
  });

  it('waits what Retry-After asks before trying again', async () => {
    tenant.sim.setFault('salesforce', { throttleRate: 0.3, retryAfterSeconds: 1 });
    const gateway = salesforceGateway(tenant.settings, { retry: { ...FAST_RETRY, retries: 10 } });
    const before = salesforceRequests(tenant, CONTOSO).length;
    const started = Date.now();

    expect(await gateway.getUser(CONTOSO, '0055g00000SAL01AAA')).toMatchObject({ username: 'marco@contoso.sf' });

    const throttled = salesforceRequests(tenant, CONTOSO).slice(before).filter((r) => r.status === 429).length;
    expect(throttled).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(throttled * 1000 - 50);
  });
});

describe('outages', () => {
  let tenant: TestTenant;

  beforeAll(async () => {
    tenant = await startTestTenant(fixture([contosoOrg(), fabrikamOrg()], { [CONTOSO]: { down: true } }));
  });
  afterAll(() => tenant?.stop());

  it('fails a down org with a ServiceError naming salesforce, the operation and the org, in bounded time', async () => {
    const gateway = salesforceGateway(tenant.settings, { retry: { retries: 1, minDelayMs: 1, maxDelayMs: 10, maxRetryAfterMs: 1_000 } });
    const started = Date.now();

    const error = await failureOf(gateway.getOrgSnapshot(CONTOSO));

    expect(Date.now() - started).toBeLessThan(6_000);
    expect(error).toMatchObject({ service: 'salesforce', operation: 'getOrgSnapshot', target: CONTOSO, status: 503, isTransient: true, retryAfterSeconds: 1 });
    expect(error.message).toContain(CONTOSO);
    const requests = salesforceRequests(tenant, CONTOSO);
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(requests.every((r) => r.status === 503)).toBe(true);
    // The other org is unaffected.
    expect((await gateway.getOrgSnapshot(FABRIKAM)).integrationUsers).toHaveLength(1);
  });

  it('gives up a call that gets no answer within the per-call timeout', async () => {
    tenant.sim.setFault(FABRIKAM, { latencyMs: 2_000 });
    const gateway = new JsforceSalesforceGateway({
      orgs: tenant.settings.salesforceOrgs,
      timeoutMs: 200,
      retry: { retries: 1, minDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1_000 },
    });
    const started = Date.now();

    const error = await failureOf(gateway.getUser(FABRIKAM, '005FB0000000INTAAA'));

    expect(Date.now() - started).toBeLessThan(1_500);
    expect(error).toMatchObject({ service: 'salesforce', operation: 'getUser', target: FABRIKAM, status: 504, code: 'Timeout' });
    tenant.sim.setFault(FABRIKAM, undefined);
  });
});
