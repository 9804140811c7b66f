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
import { CONTOSO, MILANO_CONTACT_COLUMNS, adminRoles, entraUser, environmentRecord, fastRetry, fixtureOf } from '../support/builders.js';
import { startTestTenant, type TestTenant } from '../support/tenant.js';

const FAST_RETRY: RetryPolicy = fastRetry();

const { sales: SALES, sandbox: SANDBOX, trial: TRIAL, dev: DEV, teams: TEAMS, default: DEFAULT } = CONTOSO.env;
const { sales: SALES_GROUP, contractors: CONTRACTORS_GROUP } = CONTOSO.group;

const { alice: ALICE, carol: CAROL, dave: DAVE, erin: ERIN, nina: NINA, adele: ADELE, pradeep: PRADEEP, diego: DIEGO } = CONTOSO.user;
// ALICE: member of the Sales group, has a row; CAROL: member, disabled row; DAVE: member, disabled in
// Entra; ERIN: member, no row yet; NINA: only in a group nested in the Sales group (E4); ADELE:
// Global Administrator, no license, not a member; PRADEEP: Power Platform Administrator, licensed,
// not a member; DIEGO: Dynamics 365 Administrator, not a member.
const OWEN = '6f1d2c3b-4a5e-4f60-8172-93a4b5c6d7e8'; // owner of the Sales group

const user = (id: string, name: string, extra: Record<string, unknown> = {}) =>
  entraUser(
    { id, userPrincipalName: `${name.toLowerCase()}@contoso.onmicrosoft.com`, givenName: name, surname: 'Test', mobilePhone: '+39 333 000 0000', skuIds: [CONTOSO.sku.sales] },
    extra,
  );

const environment = (id: string, displayName: string, type: FixtureEnvironment['type'], extra: Partial<FixtureEnvironment> = {}): FixtureEnvironment =>
  environmentRecord({
    id,
    displayName,
    type,
    businessunits: [{ businessunitid: `${id.slice(0, 8)}-0000-4000-8000-00000000b000`, name: displayName, parentbusinessunitid: null }],
    ...extra,
  });

/** The environments of the contoso fixture (SPEC §5), inline so that `npm test` needs nothing beside the clone. */
function contosoEnvironments(): Fixture {
  return fixtureOf({
    graph: {
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
      directoryRoles: adminRoles({ globalAdministrator: [ADELE], powerPlatformAdministrator: [PRADEEP], dynamics365Administrator: [DIEGO] }),
    },
    environments: [
      environment(SALES, 'Sales Prod', 'Production', {
        securityGroupId: SALES_GROUP,
        systemusers: [
          {
            systemuserid: CONTOSO.salesProd.row.alice,
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
            roles: [CONTOSO.salesProd.role.salesperson],
          },
        ],
      }),
      environment(SANDBOX, 'Service Sandbox', 'Sandbox', { securityGroupId: CONTOSO.group.service }),
      environment(TRIAL, 'Pilot Trial', 'Trial', { passForApps: true }),
      environment(DEV, 'Alice Dev', 'Developer', { createdBy: ALICE }),
      environment(TEAMS, 'Sales Team (Teams)', 'Teams'),
      environment(DEFAULT, 'Contoso (default, no Dataverse)', 'Default', { hasDataverse: false, businessunits: [] }),
    ],
  });
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
      mobilephone: null,
      ...MILANO_CONTACT_COLUMNS,
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
