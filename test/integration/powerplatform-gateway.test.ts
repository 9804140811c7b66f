import { afterEach, describe, expect, it } from 'vitest';
import type { Environment } from '../../lib/domain/model.js';
import type { RetryPolicy } from '../../lib/gateways/http/retry.js';
import { ServiceError } from '../../lib/gateways/http/service-error.js';
import { createCredential } from '../../lib/gateways/identity/client.js';
import { credentialOptions, gatewayOptions } from '../../lib/composition.js';
import { WebApiDataverseGateway } from '../../lib/gateways/dataverse/operations.js';
import { allPages } from '../../lib/gateways/http/pages.js';
import { environmentTypeOf, toEnvironment } from '../../lib/gateways/powerplatform/dto.js';
import { BapEnvironmentGateway } from '../../lib/gateways/powerplatform/operations.js';
import type { Fixture, FixtureEnvironment } from '../../simulator/core/fixture.js';
import { startTestTenant, type TestTenant } from '../support/tenant.js';

const FAST_RETRY: RetryPolicy = { retries: 8, minDelayMs: 1, maxDelayMs: 10, maxRetryAfterMs: 1500 };

const SALES = '05c07aab-d04c-4912-b11f-c5db1977e888';
const SANDBOX = '8c8840f8-64da-4af8-aa6e-23f464f0d94c';
const TRIAL = '94c3de72-d8bc-44a4-964e-2c0c594ee80c';
const DEV = '3c41fc82-b1b9-47fe-a1cc-37ac9f52f1c8';
const TEAMS = '3ef6d99d-0fe2-4c9d-8f16-7b46154a9872';
const DEFAULT = '79480165-9484-483b-9797-afbc60a77683';
const SALES_GROUP = '4c01cb6c-9077-4bd2-bd2a-28d43cd81fa5';
const CONTRACTORS_GROUP = '82b432e1-d6d8-49fd-9d7b-f7ef87c4c282';

const ALICE = '7ff6c8e1-3e01-47ff-bf79-b744e56731b4'; // member of the Sales group, has a row
const CAROL = 'd6a5f814-831f-4963-8de2-bea031dccf2a'; // member of the Sales group, disabled row
const DAVE = '609496a9-8df7-4a3b-b1da-9f980951c2c2'; // member of the Sales group, disabled in Entra
const ERIN = '2e40a3c0-2299-4b86-bc48-378028c5e224'; // member of the Sales group, no row yet
const NINA = '21a2ac0c-cddc-4737-8d99-f2b0bdea589c'; // only in a group nested in the Sales group (E4)
const OWEN = '6f1d2c3b-4a5e-4f60-8172-93a4b5c6d7e8'; // owner of the Sales group
const ADELE = '428529bb-7843-47c3-b26e-f3d4d6a0e6ad'; // Global Administrator, no license, not a member
const PRADEEP = 'c854dd67-7e0d-4ead-9aad-d1ebd3b883a8'; // Power Platform Administrator, licensed, not a member
const DIEGO = '1a6affab-d697-48d7-9b53-9ff072d7def8'; // Dynamics 365 Administrator, not a member

const user = (id: string, name: string, extra: Record<string, unknown> = {}) => ({
  id,
  userPrincipalName: `${name.toLowerCase()}@contoso.onmicrosoft.com`,
  displayName: `${name} Test`,
  givenName: name,
  surname: 'Test',
  jobTitle: 'Account Executive',
  mail: `${name.toLowerCase()}@contoso.onmicrosoft.com`,
  mobilePhone: '+39 333 000 0000',
  businessPhones: ['+39 02 555 0100'],
  streetAddress: 'Via Roma 1',
  city: 'Milano',
  state: 'MI',
  country: 'Italy',
  usageLocation: 'IT',
  accountEnabled: true,
  userType: 'Member',
  assignedLicenses: [{ skuId: 'ae511f35-fd10-4b3c-a995-b1aa70f7284a', disabledPlans: [] }],
  ...extra,
});

const environment = (id: string, displayName: string, type: FixtureEnvironment['type'], extra: Partial<FixtureEnvironment> = {}): FixtureEnvironment => ({
  id,
  displayName,
  type,
  hasDataverse: true,
  securityGroupId: null,
  passForApps: false,
  createdBy: null,
  orgSettings: { AllowRoleAssignmentOnDisabledUsers: false },
  businessunits: [{ businessunitid: `${id.slice(0, 8)}-0000-4000-8000-00000000b000`, name: displayName, parentbusinessunitid: null }],
  roles: [],
  teams: [],
  systemusers: [],
  ...extra,
});

/** The environments of the contoso fixture (SPEC §5), inline so that `npm test` needs nothing beside the clone. */
function contosoEnvironments(): Fixture {
  return {
    tenant: { id: '099f18cd-c2b1-4991-acf9-ec30677febac', defaultDomain: 'contoso.onmicrosoft.com', marketingTenantLicense: false },
    settings: {},
    graph: {
      subscribedSkus: [],
      users: [
        user(ALICE, 'Alice'),
        user(CAROL, 'Carol'),
        user(DAVE, 'Dave', { accountEnabled: false }),
        user(ERIN, 'Erin', { mobilePhone: null, jobTitle: 'Sales Rep' }),
        user(NINA, 'Nina'),
        user(OWEN, 'Owen'),
        user(ADELE, 'Adele', { assignedLicenses: [] }),
        user(PRADEEP, 'Pradeep'),
        user(DIEGO, 'Diego', { assignedLicenses: [] }),
      ],
      groups: [
        { id: CONTRACTORS_GROUP, displayName: 'Sales Contractors', securityEnabled: true, members: [NINA], owners: [] },
        { id: SALES_GROUP, displayName: 'ENV-Sales-Prod', securityEnabled: true, members: [ALICE, CAROL, DAVE, ERIN, CONTRACTORS_GROUP], owners: [OWEN] },
      ],
      directoryRoles: [
        { roleTemplateId: '62e90394-69f5-4237-9190-012177145e10', displayName: 'Global Administrator', members: [ADELE] },
        { roleTemplateId: '11648597-926c-4cf3-9c36-bcebb0ba8dcc', displayName: 'Power Platform Administrator', members: [PRADEEP] },
        { roleTemplateId: '44367163-eba1-44c3-98af-f5787879f96a', displayName: 'Dynamics 365 Administrator', members: [DIEGO] },
      ],
    },
    environments: [
      environment(SALES, 'Sales Prod', 'Production', {
        securityGroupId: SALES_GROUP,
        systemusers: [
          {
            systemuserid: 'ea31938e-c965-4715-b91f-214f9968faee',
            domainname: 'alice@contoso.onmicrosoft.com',
            azureactivedirectoryobjectid: ALICE,
            applicationid: null,
            accessmode: 0,
            isdisabled: false,
            islicensed: true,
            firstname: 'Alice',
            lastname: 'Test',
            fullname: 'Alice Test',
            roles: [],
          },
          {
            systemuserid: '7bd3cb7d-1c20-4860-8629-140f26187890',
            domainname: 'carol.old@contoso.onmicrosoft.com',
            azureactivedirectoryobjectid: CAROL,
            applicationid: null,
            accessmode: 0,
            isdisabled: true,
            islicensed: true,
            firstname: 'Caroline',
            lastname: 'Test',
            title: 'Former title',
            fullname: 'Carol (kept by the customer)',
            internalemailaddress: 'carol.custom@contoso.com',
            roles: ['12c42388-8f52-4fcb-b4e6-8b571427bcfc'],
          },
        ],
      }),
      environment(SANDBOX, 'Service Sandbox', 'Sandbox', { securityGroupId: '9498f525-2d7e-4ed1-9a7b-426d179e08ba' }),
      environment(TRIAL, 'Pilot Trial', 'Trial', { passForApps: true }),
      environment(DEV, 'Alice Dev', 'Developer', { createdBy: ALICE }),
      environment(TEAMS, 'Sales Team (Teams)', 'Teams'),
      environment(DEFAULT, 'Contoso (default, no Dataverse)', 'Default', { hasDataverse: false, businessunits: [] }),
    ],
    salesforceOrgs: [],
  };
}

const tenants: TestTenant[] = [];
afterEach(async () => {
  await Promise.all(tenants.splice(0).map((t) => t.stop()));
});

async function start(fixture: Fixture) {
  const tenant = await startTestTenant(fixture);
  tenants.push(tenant);
  const credential = createCredential(credentialOptions(tenant.settings), tenant.tls);
  const options = gatewayOptions(tenant.settings);
  const gateway = new BapEnvironmentGateway({ ...options.environments, credential, retry: FAST_RETRY });
  const dataverse = new WebApiDataverseGateway({ ...options.dataverse, credential, retry: FAST_RETRY });
  const bapRequests = () => tenant.sim.requests.filter((r) => r.host === 'powerplatform');
  const rowsOf = (envId: string) => tenant.sim.state.environments.find((e) => e.id === envId)!.systemusers;
  return { tenant, sim: tenant.sim, gateway, dataverse, bapRequests, rowsOf };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (e: unknown) => e,
  );

describe('Power Platform gateway: environments', () => {
  it('maps type, security group, Dataverse, pass per app and creator from the BAP answer', async () => {
    const { sim, gateway, bapRequests } = await start(contosoEnvironments());

    const environments = await allPages(gateway.listEnvironments());

    const expected: Environment[] = [
      { id: SALES, displayName: 'Sales Prod', type: 'Production', hasDataverse: true, instanceUrl: sim.urls.dataverse[SALES]!, securityGroupId: SALES_GROUP, passForApps: false, createdBy: null },
      { id: SANDBOX, displayName: 'Service Sandbox', type: 'Sandbox', hasDataverse: true, instanceUrl: sim.urls.dataverse[SANDBOX]!, securityGroupId: '9498f525-2d7e-4ed1-9a7b-426d179e08ba', passForApps: false, createdBy: null },
      { id: TRIAL, displayName: 'Pilot Trial', type: 'Trial', hasDataverse: true, instanceUrl: sim.urls.dataverse[TRIAL]!, securityGroupId: null, passForApps: true, createdBy: null },
      { id: DEV, displayName: 'Alice Dev', type: 'Developer', hasDataverse: true, instanceUrl: sim.urls.dataverse[DEV]!, securityGroupId: null, passForApps: false, createdBy: ALICE },
      { id: TEAMS, displayName: 'Sales Team (Teams)', type: 'Teams', hasDataverse: true, instanceUrl: sim.urls.dataverse[TEAMS]!, securityGroupId: null, passForApps: false, createdBy: null },
      { id: DEFAULT, displayName: 'Contoso (default, no Dataverse)', type: 'Default', hasDataverse: false, instanceUrl: null, securityGroupId: null, passForApps: false, createdBy: null },
    ];
    expect(environments).toEqual(expected);
    expect(bapRequests()).toHaveLength(1);
    expect(bapRequests()[0]!.url).toContain('api-version=');

    expect(await gateway.getEnvironment(DEV)).toEqual(expected[3]);
    expect(await gateway.getEnvironment(DEFAULT)).toEqual(expected[5]);
    expect(await gateway.getEnvironment('0badc0de-0000-4000-8000-000000000000')).toBeNull();
    expect(bapRequests().at(-1)!.status).toBe(404);
  });

  it('follows nextLink to the last page', async () => {
    const fixture = contosoEnvironments();
    for (let i = 0; i < 45; i++) {
      fixture.environments.push(
        environment(`e${String(i).padStart(7, '0')}-1111-4222-8333-444455556666`, `Personal ${i}`, 'Developer', { hasDataverse: false, createdBy: ALICE, businessunits: [] }),
      );
    }
    const { gateway, bapRequests } = await start(fixture);

    const environments = await allPages(gateway.listEnvironments());

    expect(environments.map((e) => e.id)).toEqual(fixture.environments.map((e) => e.id));
    const requests = bapRequests();
    expect(requests).toHaveLength(3); // 51 environments, pages of 20
    expect(requests.slice(1).every((r) => r.url.includes('$skiptoken='))).toBe(true);
    expect(environments.at(-1)).toMatchObject({ type: 'Developer', hasDataverse: false, instanceUrl: null, createdBy: ALICE });
  });

  it('maps SKUs and metadata it reads from the wire', () => {
    expect(environmentTypeOf('SubscriptionBasedTrial', false)).toBe('Trial');
    expect(environmentTypeOf('Production', true)).toBe('Default');
    expect(environmentTypeOf('teams', false)).toBe('Teams');
    expect(
      toEnvironment({
        name: 'Default-099f18cd-c2b1-4991-acf9-ec30677febac',
        properties: {
          displayName: 'Contoso (default)',
          environmentSku: 'Default',
          databaseType: 'CommonDataService',
          createdBy: { id: 'SYSTEM', type: 'NotSpecified' },
          linkedEnvironmentMetadata: {
            instanceUrl: 'https://org1.crm4.dynamics.com/',
            instanceApiUrl: 'https://org1.api.crm4.dynamics.com',
            securityGroupId: '00000000-0000-0000-0000-000000000000',
          },
          addons: [{ addonType: 'AppPass', allocated: 0 }],
        },
      }),
    ).toEqual({
      id: 'Default-099f18cd-c2b1-4991-acf9-ec30677febac',
      displayName: 'Contoso (default)',
      type: 'Default',
      hasDataverse: true,
      instanceUrl: 'https://org1.crm4.dynamics.com',
      securityGroupId: null,
      passForApps: false,
      createdBy: null,
    });
  });
});

describe('Power Platform gateway: addUser (D1)', () => {
  it('adds a direct member of the security group with the P1 profile of Entra', async () => {
    const { gateway, dataverse, rowsOf, bapRequests } = await start(contosoEnvironments());

    await gateway.addUser(SALES, ERIN);

    const row = rowsOf(SALES).find((r) => r.azureactivedirectoryobjectid === ERIN);
    expect(row).toMatchObject({
      domainname: 'erin@contoso.onmicrosoft.com',
      firstname: 'Erin',
      lastname: 'Test',
      title: 'Sales Rep',
      address1_telephone1: '+39 02 555 0100',
      mobilephone: null,
      address1_line1: 'Via Roma 1',
      address1_city: 'Milano',
      address1_stateorprovince: 'MI',
      address1_country: 'Italy',
      isdisabled: false,
      accessmode: 0,
      applicationid: null,
    });
    expect(bapRequests().at(-1)!.url).toMatch(/\/environments\/05c07aab-d04c-4912-b11f-c5db1977e888\/addUser\?api-version=2023-06-01$/);
    // Dataverse of the environment serves the new row.
    const environment = (await gateway.getEnvironment(SALES))!;
    expect(await dataverse.findSystemUserByEntraId(environment, ERIN)).toMatchObject({ entraObjectId: ERIN, isDisabled: false, domainName: 'erin@contoso.onmicrosoft.com' });
  });

  it('refreshes and enables an existing row, leaving full name and e-mail alone (P1)', async () => {
    const { gateway, rowsOf } = await start(contosoEnvironments());

    await gateway.addUser(SALES, CAROL);

    const rows = rowsOf(SALES).filter((r) => r.azureactivedirectoryobjectid === CAROL);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      systemuserid: '7bd3cb7d-1c20-4860-8629-140f26187890',
      isdisabled: false,
      domainname: 'carol@contoso.onmicrosoft.com',
      firstname: 'Carol',
      title: 'Account Executive',
      fullname: 'Carol (kept by the customer)',
      internalemailaddress: 'carol.custom@contoso.com',
      roles: ['12c42388-8f52-4fcb-b4e6-8b571427bcfc'],
    });
  });

  it('lets Global and Power Platform administrators in without membership, and an owner of the group', async () => {
    const { gateway, rowsOf } = await start(contosoEnvironments());

    await gateway.addUser(SALES, ADELE);
    await gateway.addUser(SALES, PRADEEP);
    await gateway.addUser(SALES, OWEN);

    // A2: an administrator without a license arrives in Administrative mode.
    expect(rowsOf(SALES).find((r) => r.azureactivedirectoryobjectid === ADELE)).toMatchObject({ accessmode: 1, islicensed: false });
    expect(rowsOf(SALES).find((r) => r.azureactivedirectoryobjectid === PRADEEP)).toMatchObject({ accessmode: 0, islicensed: true });
    expect(rowsOf(SALES).some((r) => r.azureactivedirectoryobjectid === OWEN)).toBe(true);
  });

  it('refuses what D3, D4.1 and D4.3 forbid, naming the call and the environment', async () => {
    const { gateway, rowsOf } = await start(contosoEnvironments());
    const before = rowsOf(SALES).length;

    const cases: [string, string, number, string][] = [
      [DEFAULT, ALICE, 400, 'EnvironmentHasNoDatabase'], // D3
      [SALES, DAVE, 400, 'userDisabled'], // D4.1
      [SALES, '0badc0de-0000-4000-8000-000000000000', 400, 'userNotFound'], // D4.1
      [SALES, NINA, 403, 'userNotInSecurityGroup'], // D4.3 + E4: nested membership does not count
      [SALES, DIEGO, 403, 'userNotInSecurityGroup'], // D4.3: a Dynamics 365 administrator must be a member
      ['0badc0de-0000-4000-8000-000000000000', ALICE, 404, 'EnvironmentNotFound'],
    ];
    for (const [envId, userId, status, code] of cases) {
      const error = await failure(gateway.addUser(envId, userId));
      expect(error, `${envId} ${userId}`).toBeInstanceOf(ServiceError);
      expect(error).toMatchObject({ service: 'powerplatform', operation: 'addUser', target: envId, status, code });
    }
    expect(rowsOf(SALES)).toHaveLength(before);
    await expect(gateway.addUser(SALES, "x' or 1 eq 1")).rejects.toBeInstanceOf(TypeError);
  });

  it('adds to an environment without a security group and retries through throttling', async () => {
    const fixture = contosoEnvironments();
    fixture.faults = { seed: 7, powerplatform: { throttleRate: 0.5, retryAfterSeconds: 0 } };
    const { gateway, rowsOf, bapRequests } = await start(fixture);

    await gateway.addUser(TRIAL, NINA);
    await gateway.addUser(TRIAL, ERIN);

    expect(rowsOf(TRIAL).map((r) => r.azureactivedirectoryobjectid).sort()).toEqual([ERIN, NINA].sort());
    expect(bapRequests().filter((r) => r.status === 200)).toHaveLength(2);
    expect(bapRequests().some((r) => r.status === 429)).toBe(true);
  });
});
