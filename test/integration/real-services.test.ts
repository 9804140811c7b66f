import https from 'node:https';
import pRetry from 'p-retry';
import { afterEach, describe, expect, it } from 'vitest';
import { credentialOptions, gatewayOptions } from '../../lib/composition.js';
import { WebApiDataverseGateway } from '../../lib/gateways/dataverse/operations.js';
import { GraphDirectoryGateway } from '../../lib/gateways/graph/operations.js';
import { ServiceError } from '../../lib/gateways/http/service-error.js';
import { BapEnvironmentGateway } from '../../lib/gateways/powerplatform/operations.js';
import { JsforceSalesforceGateway } from '../../lib/gateways/salesforce/operations.js';
import type { DataverseTarget } from '../../lib/gateways/dataverse/port.js';
import { allPages } from '../../lib/gateways/http/pages.js';
import { createCredential } from '../../lib/gateways/identity/client.js';
import { SKU, demoTenant, ids } from '../../fixtures/demo-tenant.js';
import { waitOutReplication } from '../../lib/operations/replication.js';
import { fastRetry } from '../support/builders.js';
import { startTestTenant, type TestTenant } from '../support/tenant.js';

/** SPEC §8: the behaviours of the real services that the simulator shows, met by the real gateways. */

const tenants: TestTenant[] = [];
afterEach(async () => {
  await Promise.all(tenants.splice(0).map((t) => t.stop()));
});

async function start(fixture = demoTenant()) {
  const tenant = await startTestTenant(fixture);
  tenants.push(tenant);
  const credential = createCredential(credentialOptions(tenant.settings), tenant.tls);
  const options = gatewayOptions(tenant.settings);
  const dataverse = new WebApiDataverseGateway({ ...options.dataverse, credential, retry: fastRetry() });
  const targetOf = (envId: string): DataverseTarget => ({ id: envId, instanceUrl: tenant.sim.urls.dataverse[envId] ?? null });
  const graph = (scope?: string) => new GraphDirectoryGateway({ ...options.directory, credential, retry: fastRetry(), ...(scope ? { scope } : {}) });
  const bap = (scope = options.environments.scope) => new BapEnvironmentGateway({ ...options.environments, scope, credential, retry: fastRetry() });
  return { tenant, fixture, sim: tenant.sim, dataverse, targetOf, credential, graph, bap };
}

/** A raw GET to a simulated host (the gateways would hide what the wire carries). */
function getJson(url: string, headers: Record<string, string>, ca: string): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { headers, ca }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined }));
      })
      .on('error', reject);
  });
}

describe('R1: Dataverse per-row next links of a single-level expand', () => {
  it('the simulator puts a link on every row, empty arrays too, and the link returns the same rows', async () => {
    const { sim, fixture, credential } = await start();
    const env = fixture.environments.find((e) => e.hasDataverse && e.systemusers.length > 0)!;
    const api = `${sim.urls.dataverse[env.id]}/api/data/v9.2/`;
    const token = (await credential.getToken(`${sim.urls.dataverse[env.id]}/.default`))!.token;
    const headers = { Authorization: `Bearer ${token}`, Prefer: 'odata.maxpagesize=5000', Accept: 'application/json' };
    const get = (url: string) => getJson(url, headers, sim.ca);
      const page = await get(`${api}systemusers?$select=systemuserid&$expand=systemuserroles_association($select=roleid)`);
      const rows = page.body.value as Record<string, unknown>[];
      expect(rows).toHaveLength(env.systemusers.length);
      for (const row of rows) {
        expect(row['systemuserroles_association@odata.nextLink']).toBe(
          `${api}systemusers(${String(row.systemuserid)})/systemuserroles_association?$select=roleid`,
        );
      }
      const empty = rows.find((r) => (r.systemuserroles_association as unknown[]).length === 0);
      expect(empty?.['systemuserroles_association@odata.nextLink']).toBeTruthy();
      const withRoles = rows.find((r) => (r.systemuserroles_association as unknown[]).length > 0)!;
      const again = await get(String(withRoles['systemuserroles_association@odata.nextLink']));
      expect((again.body.value as { roleid: string }[]).map((r) => r.roleid)).toEqual(
        (withRoles.systemuserroles_association as { roleid: string }[]).map((r) => r.roleid),
      );
  });

  it('the gateway lists systemusers and teams in one request each, with no id twice', async () => {
    const { sim, fixture, dataverse, targetOf } = await start();
    for (const env of fixture.environments.filter((e) => e.hasDataverse)) {
      const before = sim.requests.length;
      const rows = await allPages(dataverse.listSystemUsers(targetOf(env.id)));
      const teams = await allPages(dataverse.listTeams(targetOf(env.id)));
      const requests = sim.requests.slice(before).filter((r) => r.host === `dataverse:${env.id}`);
      expect(requests.map((r) => r.url.split('?')[0])).toEqual(['/api/data/v9.2/systemusers', '/api/data/v9.2/teams']);

      expect(rows).toHaveLength(env.systemusers.length);
      for (const source of env.systemusers) expect(rows.find((r) => r.id === source.systemuserid)?.roleIds).toEqual(source.roles);
      for (const source of env.teams) {
        const team = teams.find((t) => t.id === source.teamid)!;
        expect(team.roleIds).toEqual(source.roles);
        expect(team.memberIds).toEqual(source.members);
      }
    }
  });
});

/** The error a promise rejects with (or null). */
const failureOf = (work: Promise<unknown>) => work.then(() => null, (error: unknown) => error);

describe('R3: token audiences', () => {
  it('each gateway asks for its own audience: Graph, BAP and every Dataverse instance answer', async () => {
    const { fixture, dataverse, targetOf, graph, bap } = await start();
    expect((await allPages(graph().listSubscribedSkus())).length).toBe(fixture.graph.subscribedSkus.length);
    expect((await allPages(bap().listEnvironments())).length).toBe(fixture.environments.length);
    for (const env of fixture.environments.filter((e) => e.hasDataverse)) {
      expect(await allPages(dataverse.listRoles(targetOf(env.id)))).toHaveLength(env.roles.length);
    }
  });

  it('a token of another audience fails with a ServiceError naming the service that refused it', async () => {
    const { sim, fixture, dataverse, graph, bap } = await start();
    const toBap = await failureOf(allPages(bap('https://graph.microsoft.com/.default').listEnvironments()));
    expect(toBap).toBeInstanceOf(ServiceError);
    expect(toBap).toMatchObject({ service: 'powerplatform', status: 401, code: 'InvalidAuthenticationToken' });

    const toGraph = await failureOf(allPages(graph('https://service.powerapps.com/.default').listSubscribedSkus()));
    expect(toGraph).toMatchObject({ service: 'graph', status: 401, code: 'InvalidAuthenticationToken' });
    expect((toGraph as Error).message).toContain('Invalid audience');

    // The same instance under another host name: the token is for `https://localhost:…`, the
    // instance is `https://127.0.0.1:…`.
    const env = fixture.environments.find((e) => e.hasDataverse)!;
    const instance = sim.urls.dataverse[env.id]!;
    const elsewhere = { id: env.id, instanceUrl: instance.replace('127.0.0.1', 'localhost') };
    const toDataverse = await failureOf(allPages(dataverse.listRoles(elsewhere)));
    expect(toDataverse).toMatchObject({ service: 'dataverse', status: 401, target: env.id });
    expect((toDataverse as Error).message).toContain(`the resource expects a token for ${instance}/`);
  });

  it('the simulated hosts refuse a token for another resource with each service\'s answer', async () => {
    const { sim, fixture, credential } = await start();
    const graphToken = (await credential.getToken('https://graph.microsoft.com/.default'))!.token;
    const env = fixture.environments.find((e) => e.hasDataverse)!;
    const dv = await getJson(`${sim.urls.dataverse[env.id]}/api/data/v9.2/WhoAmI`, { Authorization: `Bearer ${graphToken}` }, sim.ca);
    expect(dv.status).toBe(401);
    expect(dv.body).toBeUndefined();
    expect(dv.headers['www-authenticate']).toBe(
      `Bearer authorization_uri=https://login.microsoftonline.com/${fixture.tenant.id}/oauth2/authorize, resource_id=${sim.urls.dataverse[env.id]}/`,
    );
    const bapToken = (await credential.getToken('https://service.powerapps.com//.default'))!.token;
    const me = await getJson(`${sim.urls.graph}/v1.0/users?$top=1`, { Authorization: `Bearer ${bapToken}` }, sim.ca);
    expect(me.status).toBe(401);
    expect(me.body.error).toMatchObject({ code: 'InvalidAuthenticationToken', message: 'Access token validation failure. Invalid audience.' });
    expect(me.body.error.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expect(String(me.headers['www-authenticate'])).toContain('client_id="00000003-0000-0000-c000-000000000000"');
  });
});

describe('R6: a spent Salesforce daily API limit', () => {
  it('the org answers 403 REQUEST_LIMIT_EXCEEDED and the gateway sends each call once', async () => {
    const { sim, tenant, fixture } = await start();
    const org = fixture.salesforceOrgs[0]!;
    const salesforce = new JsforceSalesforceGateway({ ...gatewayOptions(tenant.settings).salesforce, retry: fastRetry({ retries: 6 }) });
    sim.setFault(org.id, { dailyLimitExceeded: true });
    const error = await failureOf(salesforce.getUser(org.id, org.users[0]!.Id));
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ service: 'salesforce', status: 403, code: 'REQUEST_LIMIT_EXCEEDED', isDailyApiLimit: true });
    expect((error as Error).message).toContain('TotalRequests Limit exceeded.');
    const calls = sim.requests.filter((r) => r.host === `salesforce:${org.id}` && !r.url.startsWith('/services/oauth2/'));
    expect(calls.map((r) => r.status)).toEqual([403]);
  });
});

describe('R4: Entra replication lag', () => {
  it('a new user is 404 Request_ResourceNotFound for by-id calls until it has replicated', async () => {
    const fixture = demoTenant();
    fixture.faults = { graph: { replicationLagMs: 400 } };
    const { graph } = await start(fixture);
    const directory = graph();
    const created = await directory.createUser({
      userPrincipalName: 'new.joiner@tailspin.onmicrosoft.com',
      displayName: 'New Joiner',
      mailNickname: 'new.joiner',
      usageLocation: 'IT',
      password: 'Xq7!long-enough-password',
      forceChangePasswordNextSignIn: true,
    });
    const assign = () => directory.assignLicenses(created.id, [SKU.sales], []);
    expect(await failureOf(assign())).toMatchObject({ service: 'graph', status: 404, code: 'Request_ResourceNotFound' });
    expect(await failureOf(directory.addGroupMember(ids.group('prod'), created.id))).toMatchObject({ status: 404, code: 'Request_ResourceNotFound' });
    expect(await directory.getUser(created.id)).toBeNull();

    await waitOutReplication(assign, 10);
    expect((await directory.getUser(created.id))?.assignedSkuIds).toEqual([SKU.sales]);
  });
});

describe('R5: the admin API adds only users it sees licensed', () => {
  it('refuses userNotLicensed for an unlicensed user, takes an unlicensed administrator, and a Developer environment only its creator', async () => {
    const fixture = demoTenant();
    const trial = fixture.environments.find((e) => e.id === ids.env('Trial'))!;
    trial.passForApps = false;
    const { bap } = await start(fixture);
    const admin = bap();
    expect(await failureOf(admin.addUser(trial.id, ids.user('dan')))).toMatchObject({ service: 'powerplatform', status: 400, code: 'userNotLicensed' });
    await admin.addUser(trial.id, ids.user('lee')); // a Global Administrator (D4.2 i)
    expect(await failureOf(admin.addUser(ids.env('Dev'), ids.user('ben')))).toMatchObject({ status: 403, code: 'userNotEnvironmentOwner' });
    await admin.addUser(ids.env('Dev'), ids.user('ana'));
  });

  it('refuses userNotLicensed while a new licence propagates, then adds the user', async () => {
    const fixture = demoTenant();
    fixture.faults = { powerplatform: { licensePropagationMs: 300 } };
    const { bap, graph, sim } = await start(fixture);
    const trial = ids.env('Trial');
    sim.state.environments.find((e) => e.id === trial)!.passForApps = false;
    await graph().assignLicenses(ids.user('dan'), [SKU.sales], []);
    expect(await failureOf(bap().addUser(trial, ids.user('dan')))).toMatchObject({ code: 'userNotLicensed' });
    // Asked again with backoff until the admin API takes the user.
    await pRetry(() => bap().addUser(trial, ids.user('dan')), { retries: 20, minTimeout: 50, factor: 1.5 });
    expect(sim.state.environments.find((e) => e.id === trial)!.systemusers.some((r) => r.azureactivedirectoryobjectid === ids.user('dan'))).toBe(true);
  });
});
