import { afterEach, describe, expect, it } from 'vitest';
import type { SystemUser } from '../../lib/domain/model.js';
import type { DataverseTarget } from '../../lib/gateways/dataverse/port.js';
import { credentialOptions, gatewayOptions } from '../../lib/composition.js';
import { WebApiDataverseGateway } from '../../lib/gateways/dataverse/operations.js';
import { allPages } from '../../lib/gateways/http/pages.js';
import type { RetryPolicy } from '../../lib/gateways/http/retry.js';
import { ServiceError } from '../../lib/gateways/http/service-error.js';
import { createCredential } from '../../lib/gateways/identity/client.js';
import { BapEnvironmentGateway } from '../../lib/gateways/powerplatform/operations.js';
import type { Fixture } from '../../simulator/core/fixture.js';
import { generateTenant } from '../../simulator/core/generate.js';
import { CONTOSO, MILANO_CONTACT_COLUMNS, entraUser, environmentRecord, fastRetry, fixtureOf, subscribedSku, syncedSystemUser } from '../support/builders.js';
import { startTestTenant, type TestTenant } from '../support/tenant.js';

/** Retries without waiting long: the simulator's `Retry-After` values are what the tests control. */
const FAST_RETRY: RetryPolicy = fastRetry({ retries: 12 });

const ENV = CONTOSO.env.sales;
const { rootBusinessUnit: ROOT_BU, team: TEAM } = CONTOSO.salesProd;
const CHILD_BU = '6a0c2b1e-5d4f-4e3a-9b8c-7d6e5f4a3b2c';
const { salesperson: ROLE_SALES, admin: ROLE_ADMIN, basic: ROLE_BASIC } = CONTOSO.salesProd.role;
const ALICE = { id: CONTOSO.user.alice, row: CONTOSO.salesProd.row.alice };
const BOB = { id: CONTOSO.user.bob, row: CONTOSO.salesProd.row.bob };
const OBRIEN = { id: '3b1f6c2a-9d8e-4f7a-8b6c-5d4e3f2a1b0c', row: '8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5968' };
const ERP_APP = { id: '1a97fd36-4039-4864-9df4-3028d0d4b171', row: '0c4f6a2e-8b1d-4e3f-9a7c-5b6d8e9f0a1b' };

/** A licensed account in Milano. */
const person = (id: string, userPrincipalName: string, givenName: string, surname: string) =>
  entraUser({ id, userPrincipalName, givenName, surname, skuIds: [CONTOSO.sku.sales] });

/** A small slice of the contoso tenant (SPEC §5), inline so that `npm test` needs nothing beside the clone. */
function smallTenant(): Fixture {
  const alice = person(ALICE.id, 'alice@contoso.onmicrosoft.com', 'Alice', 'Rossi');
  const bob = person(BOB.id, 'bob@contoso.onmicrosoft.com', 'Bob', 'Bianchi');
  const obrien = person(OBRIEN.id, "o'brien@contoso.com", 'Liam', "O'Brien");
  // The application user's row carries a profile as a synced row does (its object is a service principal).
  const erpProfile = person('c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f', 'erp-connector@contoso.onmicrosoft.com', '#', 'erp-connector');
  return fixtureOf({
    graph: {
      subscribedSkus: [subscribedSku(CONTOSO.sku.sales, 'DYN365_ENTERPRISE_SALES', { consumed: 3, enabled: 25 })],
      users: [alice, bob, obrien],
      groups: [{ id: CONTOSO.group.sales, displayName: 'ENV-Sales-Prod', securityEnabled: true, members: [ALICE.id, BOB.id, OBRIEN.id], owners: [] }],
    },
    environments: [
      environmentRecord({
        id: ENV,
        displayName: 'Sales Prod',
        type: 'Production',
        securityGroupId: CONTOSO.group.sales,
        businessunits: [
          { businessunitid: ROOT_BU, name: 'prod', parentbusinessunitid: null },
          { businessunitid: CHILD_BU, name: 'prod-north', parentbusinessunitid: ROOT_BU },
        ],
        roles: [
          { roleid: ROLE_ADMIN, name: 'System Administrator' },
          { roleid: ROLE_SALES, name: 'Salesperson' },
          { roleid: ROLE_BASIC, name: 'Basic User' },
        ],
        teams: [{ teamid: TEAM, name: 'Sales Team', roles: [ROLE_SALES], members: [ALICE.row, OBRIEN.row] }],
        systemusers: [
          syncedSystemUser(ALICE.row, alice, { roles: [ROLE_SALES] }),
          syncedSystemUser(BOB.row, bob, { isdisabled: true }),
          syncedSystemUser(OBRIEN.row, obrien, { roles: [ROLE_BASIC] }),
          syncedSystemUser(ERP_APP.row, erpProfile, { applicationid: ERP_APP.id, accessmode: 4, islicensed: false, roles: [ROLE_ADMIN] }),
        ],
      }),
      environmentRecord({ id: CONTOSO.env.default, displayName: 'Contoso (default, no Dataverse)', type: 'Default', hasDataverse: false, orgSettings: {} }),
    ],
  });
}

const tenants: TestTenant[] = [];
afterEach(async () => {
  await Promise.all(tenants.splice(0).map((t) => t.stop()));
});

async function start(fixture: Fixture, retry: RetryPolicy = FAST_RETRY) {
  const tenant = await startTestTenant(fixture);
  tenants.push(tenant);
  const credential = createCredential(credentialOptions(tenant.settings), tenant.tls);
  const options = gatewayOptions(tenant.settings);
  const dataverse = new WebApiDataverseGateway({ ...options.dataverse, credential, retry });
  const environments = new BapEnvironmentGateway({ ...options.environments, credential, retry });
  const targetOf = (envId: string): DataverseTarget => ({ id: envId, instanceUrl: tenant.sim.urls.dataverse[envId] ?? null });
  const requestsTo = (envId: string) => tenant.sim.requests.filter((r) => r.host === `dataverse:${envId}`);
  return { tenant, sim: tenant.sim, dataverse, environments, targetOf, requestsTo };
}

/** Every row of a paged listing, and how many pages it came in. */
async function all<T>(pages: AsyncIterable<T[]>): Promise<T[] & { pages: number }> {
  const items = Object.assign([] as T[], { pages: 0 });
  for await (const page of pages) {
    items.push(...page);
    items.pages++;
  }
  return items;
}

const byId = <T extends { id: string }>(items: T[]) => new Map(items.map((i) => [i.id, i]));

describe('Dataverse gateway: paging', () => {
  it('reads 12,000 systemusers in exactly 3 requests of 5,000, roles included', async () => {
    const fixture = generateTenant({ users: 12000, environments: 1, systemusersPerEnvironment: 12000, salesforceOrgs: 0 });
    const env = fixture.environments[0]!;
    const { dataverse, environments, requestsTo } = await start(fixture);
    const environment = await environments.getEnvironment(env.id);
    expect(environment?.instanceUrl).toBeTruthy();

    const rows = await all(dataverse.listSystemUsers(environment!));

    const requests = requestsTo(env.id);
    expect(requests).toHaveLength(3);
    expect(requests.every((r) => r.status === 200)).toBe(true);
    expect(decodeURIComponent(requests[0]!.url)).toMatch(/^\/api\/data\/v9\.2\/systemusers\?\$select=systemuserid,domainname,.*&\$expand=systemuserroles_association\(\$select=roleid\)$/);
    expect(requests[1]!.url).toContain('$skiptoken=');
    expect(requests[2]!.url).toContain('$skiptoken=');

    expect(rows).toHaveLength(12000);
    expect(rows.pages).toBe(3);
    expect(new Set(rows.map((r) => r.id)).size).toBe(12000);
    const expected = new Map(env.systemusers.map((s) => [s.systemuserid, s]));
    for (const row of rows) {
      const source = expected.get(row.id);
      expect(source, row.id).toBeDefined();
      expect(row.roleIds).toEqual(source!.roles);
      expect(row.isDisabled).toBe(source!.isdisabled);
      expect(row.accessMode).toBe(source!.accessmode);
      expect(row.entraObjectId).toBe(source!.azureactivedirectoryobjectid);
    }
    expect(rows.filter((r) => r.roleIds.length === 0).length).toBe(env.systemusers.filter((s) => s.roles.length === 0).length);
    const sample = rows[5001]!;
    expect(sample.profile.address1_city).toBe('Milano');
    expect(sample.businessUnitId).toBe(env.businessunits[0]!.businessunitid);
  });
});

describe('Dataverse and Power Platform gateways under faults', () => {
  it('return complete, correct data with 30% of requests throttled', async () => {
    const fixture = generateTenant({ users: 6000, environments: 2, systemusersPerEnvironment: 6000, salesforceOrgs: 0 });
    // Enough environments without Dataverse for three BAP pages.
    for (let i = 0; i < 40; i++) {
      fixture.environments.push(
        environmentRecord({
          id: `0000${String(i).padStart(4, '0')}-aaaa-4bbb-8ccc-000000000000`,
          displayName: `Teams space ${i}`,
          type: i % 2 === 0 ? 'Teams' : 'Trial',
          hasDataverse: false,
          passForApps: i % 3 === 0,
          orgSettings: {},
        }),
      );
    }
    fixture.faults = { seed: 3, dataverse: { throttleRate: 0.3, retryAfterSeconds: 0 }, powerplatform: { throttleRate: 0.3, retryAfterSeconds: 0 } };
    const { sim, dataverse, environments, requestsTo } = await start(fixture);

    const listed = await allPages(environments.listEnvironments());
    expect(listed.map((e) => e.id)).toEqual(fixture.environments.map((e) => e.id));
    for (const env of fixture.environments) {
      const mapped = listed.find((e) => e.id === env.id)!;
      expect(mapped.type).toBe(env.type);
      expect(mapped.hasDataverse).toBe(env.hasDataverse);
      expect(mapped.securityGroupId).toBe(env.securityGroupId);
      expect(mapped.passForApps).toBe(env.passForApps);
    }

    for (const env of fixture.environments.filter((e) => e.hasDataverse)) {
      const target = listed.find((e) => e.id === env.id)!;
      const rows = await all(dataverse.listSystemUsers(target));
      expect(rows).toHaveLength(env.systemusers.length);
      const got = byId(rows);
      for (const source of env.systemusers) {
        const row = got.get(source.systemuserid);
        expect(row?.roleIds).toEqual(source.roles);
        expect(row?.profile.title).toBe(source.title);
      }
      const roles = await allPages(dataverse.listRoles(target));
      expect(roles.map((r) => r.id).sort()).toEqual(env.roles.map((r) => r.roleid).sort());
      const units = await allPages(dataverse.listBusinessUnits(target));
      expect(units).toEqual([{ id: env.businessunits[0]!.businessunitid, name: env.businessunits[0]!.name, parentId: null }]);
      expect(await dataverse.getOrganizationSettings(target)).toEqual({ allowRoleAssignmentOnDisabledUsers: false });
      expect(requestsTo(env.id).some((r) => r.status === 429)).toBe(true);
    }
    expect(sim.requests.filter((r) => r.host === 'powerplatform' && r.status === 200)).toHaveLength(3);
    expect(sim.requests.some((r) => r.host === 'powerplatform' && r.status === 429)).toBe(true);
  });

  it('names the service, the operation and the environment when an environment is down', async () => {
    const fixture = smallTenant();
    fixture.faults = { [ENV]: { down: true } };
    const { dataverse, targetOf, requestsTo } = await start(fixture, { retries: 1, minDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 1500 });

    const started = Date.now();
    const error = await all(dataverse.listSystemUsers(targetOf(ENV))).then(
      () => null,
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;

    expect(error).toBeInstanceOf(ServiceError);
    const serviceError = error as ServiceError;
    expect(serviceError.service).toBe('dataverse');
    expect(serviceError.operation).toBe('listSystemUsers');
    expect(serviceError.target).toBe(ENV);
    expect(serviceError.status).toBe(503);
    expect(serviceError.isTransient).toBe(true);
    expect(serviceError.retryAfterSeconds).toBe(1);
    expect(serviceError.message).toContain(ENV);
    expect(requestsTo(ENV)).toHaveLength(2); // the first try and the one retry the policy allows
    expect(elapsed).toBeLessThan(5000);
  });
});

describe('Dataverse gateway: $filter values', () => {
  it('escapes a quote in a string literal, as the request shows', async () => {
    const { dataverse, targetOf, requestsTo } = await start(smallTenant());
    const target = targetOf(ENV);

    const found = await dataverse.findSystemUserByDomainName(target, "o'brien@contoso.com");
    expect(found?.id).toBe(OBRIEN.row);
    expect(found?.roleIds).toEqual([ROLE_BASIC]);
    const sent = decodeURIComponent(requestsTo(ENV).at(-1)!.url);
    expect(sent).toContain("$filter=domainname eq 'o''brien@contoso.com'");

    // Dataverse compares strings ignoring case.
    expect((await dataverse.findSystemUserByDomainName(target, "O'BRIEN@CONTOSO.COM"))?.id).toBe(OBRIEN.row);

    // An attempt to widen the filter stays one string literal: nothing matches.
    const injected = await dataverse.findSystemUserByDomainName(target, "nobody' or domainname ne 'x");
    expect(injected).toBeNull();
    const last = requestsTo(ENV).at(-1)!;
    expect(last.status).toBe(200);
    expect(decodeURIComponent(last.url)).toContain("$filter=domainname eq 'nobody'' or domainname ne ''x'");

    // A GUID-valued filter refuses anything that is not a GUID, before any request.
    const before = requestsTo(ENV).length;
    await expect(dataverse.findSystemUserByEntraId(target, `${ALICE.id} or azureactivedirectoryobjectid ne null`)).rejects.toBeInstanceOf(TypeError);
    expect(requestsTo(ENV)).toHaveLength(before);
    expect((await dataverse.findSystemUserByEntraId(target, ALICE.id.toUpperCase()))?.id).toBe(ALICE.row);
  });
});

describe('Dataverse gateway: reads and writes on a contoso slice', () => {
  it('reads users, teams, roles, business units and organization settings', async () => {
    const { dataverse, targetOf } = await start(smallTenant());
    const target = targetOf(ENV);

    const users = byId(await all(dataverse.listSystemUsers(target)));
    expect(users.size).toBe(4);
    const alice = users.get(ALICE.row)!;
    expect(alice).toMatchObject<Partial<SystemUser>>({
      domainName: 'alice@contoso.onmicrosoft.com',
      entraObjectId: ALICE.id,
      applicationId: null,
      accessMode: 0,
      isDisabled: false,
      isLicensed: true,
      fullName: 'Alice Rossi',
      businessUnitId: ROOT_BU,
      roleIds: [ROLE_SALES],
    });
    expect(alice.profile).toEqual({
      domainname: 'alice@contoso.onmicrosoft.com',
      firstname: 'Alice',
      lastname: 'Rossi',
      title: 'Account Executive',
      mobilephone: null,
      ...MILANO_CONTACT_COLUMNS,
    });
    expect(users.get(ERP_APP.row)).toMatchObject({ applicationId: ERP_APP.id, accessMode: 4 });

    expect(await dataverse.getSystemUser(target, BOB.row)).toMatchObject({ id: BOB.row, isDisabled: true, roleIds: [] });
    expect(await dataverse.getSystemUser(target, '11111111-2222-4333-8444-555555555555')).toBeNull();
    expect((await dataverse.findSystemUserByApplicationId(target, ERP_APP.id))?.id).toBe(ERP_APP.row);
    expect(await dataverse.findSystemUserByApplicationId(target, '11111111-2222-4333-8444-555555555555')).toBeNull();

    const team = { id: TEAM, name: 'Sales Team', roleIds: [ROLE_SALES], memberIds: [ALICE.row, OBRIEN.row], teamType: 0, groupId: null, membershipType: 0 };
    expect(await allPages(dataverse.listTeams(target))).toEqual([team]);
    expect(await allPages(dataverse.listTeamsOfUser(target, OBRIEN.row))).toEqual([team]);
    expect(await allPages(dataverse.listTeamsOfUser(target, BOB.row))).toEqual([]);

    expect(await allPages(dataverse.listRoles(target))).toEqual([
      { id: ROLE_ADMIN, name: 'System Administrator', businessUnitId: ROOT_BU },
      { id: ROLE_SALES, name: 'Salesperson', businessUnitId: ROOT_BU },
      { id: ROLE_BASIC, name: 'Basic User', businessUnitId: ROOT_BU },
    ]);
    expect(await allPages(dataverse.listBusinessUnits(target))).toEqual([
      { id: ROOT_BU, name: 'prod', parentId: null },
      { id: CHILD_BU, name: 'prod-north', parentId: ROOT_BU },
    ]);
    expect(await dataverse.getOrganizationSettings(target)).toEqual({ allowRoleAssignmentOnDisabledUsers: false });
  });

  it('updates a systemuser, creates an application user and assigns roles in the simulated environment', async () => {
    const { sim, dataverse, targetOf, requestsTo } = await start(smallTenant());
    const target = targetOf(ENV);
    const state = () => sim.state.environments.find((e) => e.id === ENV)!;
    const row = (id: string) => state().systemusers.find((s) => s.systemuserid === id)!;

    await dataverse.updateSystemUser(target, ALICE.row, { accessMode: 4 });
    expect(row(ALICE.row).accessmode).toBe(4);
    await dataverse.updateSystemUser(target, ERP_APP.row, { disabled: true });
    expect(row(ERP_APP.row).isdisabled).toBe(true);
    expect((await dataverse.getSystemUser(target, ERP_APP.row))?.isDisabled).toBe(true);
    await expect(dataverse.updateSystemUser(target, '11111111-2222-4333-8444-555555555555', { disabled: false })).rejects.toMatchObject({
      service: 'dataverse',
      operation: 'updateSystemUser',
      status: 404,
      code: '0x80040217',
    });

    const appId = '9eb081b7-d67c-4ac6-8c59-2cf01c8bda7e';
    const newId = await dataverse.createApplicationUser(target, appId, ROOT_BU);
    expect(row(newId)).toMatchObject({ applicationid: appId, accessmode: 4, firstname: '#', isdisabled: false, roles: [] });
    const created = await dataverse.findSystemUserByApplicationId(target, appId);
    expect(created).toMatchObject({ id: newId, applicationId: appId, accessMode: 4, businessUnitId: ROOT_BU });
    expect(created?.profile.firstname).toBe('#');
    await expect(dataverse.createApplicationUser(target, appId, ROOT_BU)).rejects.toMatchObject({
      service: 'dataverse',
      operation: 'createApplicationUser',
      target: ENV,
      code: '0x80040237',
    });
    expect(state().systemusers.filter((s) => s.applicationid === appId)).toHaveLength(1);

    await dataverse.assignRole(target, newId, ROLE_BASIC);
    expect(row(newId).roles).toEqual([ROLE_BASIC]);
    const assign = requestsTo(ENV).find((r) => r.method === 'POST' && r.url.endsWith('/systemuserroles_association/$ref'));
    expect(assign?.url).toBe(`/api/data/v9.2/systemusers(${newId})/systemuserroles_association/$ref`);
    expect((await dataverse.getSystemUser(target, newId))?.roleIds).toEqual([ROLE_BASIC]);
  });

  it('refuses a role for a disabled user unless AllowRoleAssignmentOnDisabledUsers is true (E5)', async () => {
    const { sim, dataverse, targetOf } = await start(smallTenant());
    const target = targetOf(ENV);
    const env = sim.state.environments.find((e) => e.id === ENV)!;

    const refused = await dataverse.assignRole(target, BOB.row, ROLE_SALES).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ServiceError);
    expect(refused).toMatchObject({ service: 'dataverse', operation: 'assignRole', target: ENV, status: 400, code: '0x80040225' });
    expect(env.systemusers.find((s) => s.systemuserid === BOB.row)!.roles).toEqual([]);

    env.orgSettings.AllowRoleAssignmentOnDisabledUsers = true;
    expect(await dataverse.getOrganizationSettings(target)).toEqual({ allowRoleAssignmentOnDisabledUsers: true });
    await dataverse.assignRole(target, BOB.row, ROLE_SALES);
    expect(env.systemusers.find((s) => s.systemuserid === BOB.row)!.roles).toEqual([ROLE_SALES]);
  });

  it('refuses to address an environment without Dataverse', async () => {
    const { dataverse } = await start(smallTenant());
    const target = { id: '79480165-9484-483b-9797-afbc60a77683', instanceUrl: null };
    await expect(allPages(dataverse.listRoles(target))).rejects.toMatchObject({ service: 'dataverse', operation: 'listRoles', code: 'NoDataverseDatabase', target: target.id });
  });
});
