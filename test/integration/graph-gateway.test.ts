import { afterEach, describe, expect, it, vi } from 'vitest';
import { credentialOptions, gatewayOptions } from '../../lib/composition.js';
import { GRAPH_SCOPE } from '../../lib/gateways/graph/client.js';
import { GraphDirectoryGateway } from '../../lib/gateways/graph/operations.js';
import { allPages as all } from '../../lib/gateways/http/pages.js';
import type { RetryPolicy } from '../../lib/gateways/http/retry.js';
import { ServiceError } from '../../lib/gateways/http/service-error.js';
import { createCredential } from '../../lib/gateways/identity/client.js';
import type { DirectoryUser } from '../../lib/domain/model.js';
import type { Fixture, RequestRecord } from '../../simulator/index.js';
import { generateTenant } from '../../simulator/core/generate.js';
import { GRAPH_IDS, GUEST_UPN, OBRIEN_UPN, graphTenant } from '../fixtures/graph-tenant.js';
import { OFFICE, directoryUser, fastRetry } from '../support/builders.js';
import { startTestTenant, type TestTenant } from '../support/tenant.js';

/** Quick retries for tests: Retry-After is still honoured, back-off is a few ms. */
const FAST: RetryPolicy = fastRetry({ retries: 10, maxDelayMs: 5, maxRetryAfterMs: 5_000 });

const tenants: TestTenant[] = [];
afterEach(async () => {
  await Promise.all(tenants.splice(0).map((t) => t.stop()));
});

async function setUp(fixture: Fixture, retry: RetryPolicy = FAST) {
  const tenant = await startTestTenant(fixture);
  tenants.push(tenant);
  const credential = createCredential(credentialOptions(tenant.settings), tenant.tls);
  const gateway = new GraphDirectoryGateway({ ...gatewayOptions(tenant.settings).directory, credential, retry, concurrency: 4 });
  return { tenant, sim: tenant.sim, credential, gateway };
}

const graphRequests = (requests: RequestRecord[]) => requests.filter((r) => r.host === 'graph');
const parse = (record: RequestRecord) => new URL(record.url, 'https://graph.invalid');

describe('GraphDirectoryGateway over the simulated Microsoft Graph', () => {
  it('lists every user of a 3,000-user tenant across pages of 500 (signInActivity selected), with $select, using an @azure/identity token', async () => {
    const fixture = generateTenant({ users: 3000, environments: 1, systemusersPerEnvironment: 5, salesforceOrgs: 0 });
    const { sim, gateway, credential } = await setUp(fixture);

    const users = await all(gateway.listUsers());

    expect(users).toHaveLength(3000);
    expect(users.map((u) => u.id)).toEqual(fixture.graph.users.map((u) => u.id));
    expect(new Set(users.map((u) => u.id)).size).toBe(3000);
    const first = fixture.graph.users[0]!;
    expect(users[0]).toEqual<DirectoryUser>(
      directoryUser({
        id: first.id,
        userPrincipalName: first.userPrincipalName,
        displayName: 'User 0',
        givenName: 'User',
        surname: '0',
        jobTitle: 'Account Executive',
        mail: first.userPrincipalName,
        // The generated tenant's office, as Graph gives it and the gateway keeps it.
        ...OFFICE.milano,
        assignedSkuIds: [first.assignedLicenses[0]!.skuId],
        // L2: selected, and Graph leaves it out for a user who never signed in.
        signInActivity: { lastSignInDateTime: null, lastNonInteractiveSignInDateTime: null, lastSuccessfulSignInDateTime: null },
      }),
    );
    expect(users[499]!.accountEnabled).toBe(false); // the generator disables every 500th account

    const pages = graphRequests(sim.requests).filter((r) => r.method === 'GET' && parse(r).pathname === '/v1.0/users');
    expect(pages).toHaveLength(6);
    for (const page of pages) {
      const query = parse(page).searchParams;
      expect(query.get('$select')?.split(',')).toEqual(
        expect.arrayContaining(['id', 'userPrincipalName', 'assignedLicenses', 'onPremisesSyncEnabled', 'createdDateTime', 'licenseAssignmentStates', 'signInActivity']),
      );
      expect(query.get('$top')).toBe('500');
      expect(page.status).toBe(200);
    }
    expect(pages.slice(1).every((p) => parse(p).searchParams.has('$skiptoken'))).toBe(true);
    // The bearer token came from the simulated Entra token endpoint through @azure/identity.
    expect(sim.requests.some((r) => r.host === 'login' && r.method === 'POST' && r.status === 200)).toBe(true);
    await expect(credential.getToken(GRAPH_SCOPE)).resolves.toMatchObject({ token: expect.any(String) });
  });

  it('returns complete data from listUsers and getSecurityGroups while 30% of requests are throttled', async () => {
    const fixture = generateTenant({ users: 2500, environments: 7, systemusersPerEnvironment: 300, salesforceOrgs: 0 });
    fixture.faults = { seed: 7, graph: { throttleRate: 0.3, retryAfterSeconds: 0 } };
    const { sim, gateway } = await setUp(fixture);

    const users = await all(gateway.listUsers());
    expect(users.map((u) => u.id).sort()).toEqual(fixture.graph.users.map((u) => u.id).sort());

    const groupIds = fixture.graph.groups.map((g) => g.id);
    const groups = await gateway.getSecurityGroups([...groupIds, '00000000-0000-4000-8000-000000000000']);
    expect([...groups.keys()].sort()).toEqual([...groupIds].sort());
    for (const expected of fixture.graph.groups) {
      const group = groups.get(expected.id)!;
      expect(group.displayName).toBe(expected.displayName);
      expect(group.members.map((m) => m.id).sort()).toEqual([...expected.members].sort());
      expect(group.members.every((m) => m.kind === 'user')).toBe(true);
      expect(group.ownerIds).toEqual([]);
    }

    const graph = graphRequests(sim.requests);
    expect(graph.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    // 7 groups × (group, members, owners) = 21 items: a batch of 20 and one of 1, plus retries.
    expect(graph.filter((r) => r.batchItems !== undefined).every((r) => r.batchItems! <= 20)).toBe(true);
  });

  it('retries the items of a $batch that were answered 429 inside the batch', async () => {
    const fixture = graphTenant({ faults: { seed: 7, graph: { throttleRate: 0.3, retryAfterSeconds: 0 } } });
    const { sim, gateway } = await setUp(fixture);
    const ids = [GRAPH_IDS.envGroup, GRAPH_IDS.nestedGroup, GRAPH_IDS.otherGroup];

    const groups = await gateway.getSecurityGroups(ids);

    expect(groups.get(GRAPH_IDS.envGroup)).toEqual({
      id: GRAPH_IDS.envGroup,
      displayName: 'ENV-Sales-Prod',
      members: [
        { id: GRAPH_IDS.alice, kind: 'user', displayName: 'alice' },
        { id: GRAPH_IDS.nestedGroup, kind: 'group', displayName: 'Sales Contractors' },
      ],
      ownerIds: [GRAPH_IDS.bob],
    });
    expect(groups.get(GRAPH_IDS.nestedGroup)!.members.map((m) => m.id)).toEqual([GRAPH_IDS.obrien]);
    expect(groups.get(GRAPH_IDS.otherGroup)!.members.map((m) => m.id)).toEqual([GRAPH_IDS.alice, GRAPH_IDS.guest]);

    // Batches that reached the service: the first carried all 9 items, the later ones only the
    // items that had been throttled inside a batch.
    const batches = graphRequests(sim.requests).filter((r) => r.batchItems !== undefined);
    expect(batches[0]!.batchItems).toBe(9);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.slice(1).every((b) => b.batchItems! < 9)).toBe(true);
  });

  it('rejects with a ServiceError naming graph and the operation, in bounded time, when Graph is down', async () => {
    const fixture = graphTenant({ faults: { graph: { down: true } } });
    const { tenant, sim, gateway, credential } = await setUp(fixture, { retries: 1, minDelayMs: 1, maxDelayMs: 10, maxRetryAfterMs: 2_000 });

    const started = Date.now();
    const error = await all(gateway.listUsers()).catch((e: unknown) => e);
    const elapsed = Date.now() - started;

    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ service: 'graph', operation: 'listUsers', status: 503, code: 'ServiceUnavailable', isTransient: true });
    expect(elapsed).toBeLessThan(8_000);
    // The first try and one retry.
    expect(graphRequests(sim.requests).map((r) => r.status)).toEqual([503, 503]);

    // A Retry-After (1 s here) longer than the policy honours ends the retries at once.
    const impatient = new GraphDirectoryGateway({
      ...gatewayOptions(tenant.settings).directory,
      credential,
      retry: { retries: 5, minDelayMs: 1, maxDelayMs: 10, maxRetryAfterMs: 500 },
    });
    const before = graphRequests(sim.requests).length;
    const factsError = await impatient.getUserAccessFacts(GRAPH_IDS.alice, GRAPH_IDS.envGroup).catch((e: unknown) => e);
    expect(factsError).toBeInstanceOf(ServiceError);
    expect(factsError).toMatchObject({ service: 'graph', operation: 'getUserAccessFacts', status: 503, retryAfterSeconds: 1 });
    expect(graphRequests(sim.requests).length - before).toBe(1);
  });

  it('gives up on an attempt that outlasts the per-request timeout and reports a 504 Timeout', async () => {
    const fixture = graphTenant({ faults: { graph: { latencyMs: 5_000 } } });
    const { tenant, credential, sim } = await setUp(fixture);
    const gateway = new GraphDirectoryGateway({
      baseUrl: tenant.settings.endpoints.graph,
      credential,
      timeoutMs: 150,
      retry: { retries: 1, minDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 1_000 },
    });

    const started = Date.now();
    const error = await all(gateway.listSubscribedSkus()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ service: 'graph', operation: 'listSubscribedSkus', status: 504, code: 'Timeout' });
    // Two attempts of 150 ms each, long before the simulator would have answered the first.
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(graphRequests(sim.requests)).toHaveLength(2);
  });

  it('escapes $filter values: a UPN with an apostrophe is found, and a crafted value matches nothing', async () => {
    const { sim, gateway } = await setUp(graphTenant());

    const found = await gateway.findUserByUpn(OBRIEN_UPN);
    expect(found?.id).toBe(GRAPH_IDS.obrien);
    expect(found?.userPrincipalName).toBe(OBRIEN_UPN);

    const sent = graphRequests(sim.requests).filter((r) => parse(r).pathname === '/v1.0/users' && parse(r).searchParams.has('$filter'));
    expect(sent).toHaveLength(1);
    expect(parse(sent[0]!).searchParams.get('$filter')).toBe("userPrincipalName eq 'o''brien@contoso.com'");

    // Unescaped, this would read `userPrincipalName eq 'x' or startswith(userPrincipalName,'a')` and find alice.
    await expect(gateway.findUserByUpn("x' or startswith(userPrincipalName,'a")).resolves.toBeNull();
    await expect(gateway.findUserByUpn('nobody@contoso.onmicrosoft.com')).resolves.toBeNull();
  });

  it('gets a guest by a UPN with #EXT# (and an apostrophe), encoding the path segment', async () => {
    const { sim, gateway } = await setUp(graphTenant());

    const guest = await gateway.getUser(GUEST_UPN);
    expect(guest).toMatchObject({ id: GRAPH_IDS.guest, userPrincipalName: GUEST_UPN, userType: 'Guest' });
    const record = graphRequests(sim.requests).at(-1)!;
    expect(record.url).toContain('%23EXT%23');
    expect(record.status).toBe(200);

    await expect(gateway.findUserByUpn(GUEST_UPN)).resolves.toMatchObject({ id: GRAPH_IDS.guest });
    await expect(gateway.getUser(GRAPH_IDS.synced)).resolves.toMatchObject({ onPremisesSyncEnabled: true });
    await expect(gateway.getUser('missing#EXT#@contoso.onmicrosoft.com')).resolves.toBeNull();
  });

  it('creates a user, assigns and removes a license, adds and removes a group member, changing the tenant state', async () => {
    const { sim, gateway } = await setUp(graphTenant());
    const password = 'Zq7!temporary-Passw0rd';

    const created = await gateway.createUser({
      userPrincipalName: 'dora@contoso.onmicrosoft.com',
      displayName: 'Dora Neri',
      mailNickname: 'dora',
      givenName: 'Dora',
      surname: 'Neri',
      usageLocation: 'IT',
      password,
      forceChangePasswordNextSignIn: true,
    });
    expect(created).toMatchObject({ userPrincipalName: 'dora@contoso.onmicrosoft.com', displayName: 'Dora Neri', usageLocation: 'IT', accountEnabled: true, assignedSkuIds: [] });

    await gateway.assignLicenses(created.id, [GRAPH_IDS.salesSku], []);
    await gateway.addGroupMember(GRAPH_IDS.envGroup, created.id);
    await gateway.addGroupMember(GRAPH_IDS.envGroup, created.id); // already a member: no error

    let state = sim.exportState();
    const stored = state.graph.users.find((u) => u.id === created.id)!;
    expect(stored).toMatchObject({ userPrincipalName: 'dora@contoso.onmicrosoft.com', accountEnabled: true, usageLocation: 'IT' });
    expect(stored.assignedLicenses).toEqual([{ skuId: GRAPH_IDS.salesSku, disabledPlans: [] }]);
    expect(state.graph.subscribedSkus.find((s) => s.skuId === GRAPH_IDS.salesSku)!.consumedUnits).toBe(3);
    expect(state.graph.groups.find((g) => g.id === GRAPH_IDS.envGroup)!.members).toEqual([GRAPH_IDS.alice, GRAPH_IDS.nestedGroup, created.id]);
    // U1: the temporary password is never kept.
    expect(JSON.stringify(state)).not.toContain(password);
    expect(stored).not.toHaveProperty('passwordProfile');
    await expect(gateway.getUser(created.id)).resolves.toMatchObject({ assignedSkuIds: [GRAPH_IDS.salesSku] });

    await gateway.removeGroupMember(GRAPH_IDS.envGroup, created.id);
    await gateway.removeGroupMember(GRAPH_IDS.envGroup, created.id); // no longer a member: no error
    await gateway.assignLicenses(created.id, [], [GRAPH_IDS.salesSku]);
    state = sim.exportState();
    expect(state.graph.groups.find((g) => g.id === GRAPH_IDS.envGroup)!.members).not.toContain(created.id);
    expect(state.graph.users.find((u) => u.id === created.id)!.assignedLicenses).toEqual([]);
    expect(state.graph.subscribedSkus.find((s) => s.skuId === GRAPH_IDS.salesSku)!.consumedUnits).toBe(2);

    const missingGroup = await gateway.removeGroupMember('00000000-0000-4000-8000-000000000000', created.id).catch((e: unknown) => e);
    expect(missingGroup).toMatchObject({ service: 'graph', operation: 'removeGroupMember', status: 404, code: 'Request_ResourceNotFound' });
  });

  it('surfaces Graph refusals as ServiceErrors with status and code, changing nothing', async () => {
    const { sim, gateway } = await setUp(graphTenant());
    const before = sim.exportState();

    const noLocation = await gateway.assignLicenses(GRAPH_IDS.noLocation, [GRAPH_IDS.salesSku], []).catch((e: unknown) => e);
    expect(noLocation).toBeInstanceOf(ServiceError);
    expect(noLocation).toMatchObject({ service: 'graph', operation: 'assignLicenses', status: 400, code: 'Request_BadRequest' });
    expect((noLocation as Error).message).toContain('License assignment cannot be done for user with invalid usage location.');

    const full = await gateway.assignLicenses(GRAPH_IDS.alice, [GRAPH_IDS.e3Sku], []).catch((e: unknown) => e);
    expect((full as ServiceError).message).toContain(`Subscription with SKU ${GRAPH_IDS.e3Sku} does not have any available licenses.`);

    const duplicate = await gateway
      .createUser({ userPrincipalName: 'ALICE@contoso.onmicrosoft.com', displayName: 'Alice 2', mailNickname: 'alice2', password: 'Zq7!another-Passw0rd', forceChangePasswordNextSignIn: true })
      .catch((e: unknown) => e);
    expect(duplicate).toMatchObject({ operation: 'createUser', status: 400, code: 'Request_BadRequest' });
    expect((duplicate as Error).message).toContain('Another object with the same value for property userPrincipalName already exists.');
    expect((duplicate as Error).message).not.toContain('Zq7!another-Passw0rd');

    expect(sim.exportState().graph).toEqual(before.graph);
  });

  it('gathers the access facts of a user in one $batch request', async () => {
    const { sim, gateway } = await setUp(graphTenant());

    const facts = await gateway.getUserAccessFacts(OBRIEN_UPN, GRAPH_IDS.envGroup);

    expect(facts.user).toMatchObject({ id: GRAPH_IDS.obrien, assignedSkuIds: [GRAPH_IDS.salesSku] });
    expect(facts.skus.map((s) => s.skuPartNumber).sort()).toEqual(['DYN365_ENTERPRISE_SALES', 'SPE_E3']);
    expect(facts.skus.find((s) => s.skuId === GRAPH_IDS.salesSku)).toEqual({
      skuId: GRAPH_IDS.salesSku,
      skuPartNumber: 'DYN365_ENTERPRISE_SALES',
      capabilityStatus: 'Enabled',
      consumedUnits: 2,
      enabledUnits: 5,
      suspendedUnits: 0,
      warningUnits: 0,
    });
    expect(facts.directGroupIds).toEqual([GRAPH_IDS.nestedGroup]);
    // E4: only a nested member of the environment's group.
    expect(facts.nestedGroups).toEqual([{ id: GRAPH_IDS.envGroup, displayName: 'ENV-Sales-Prod' }]);
    expect([...facts.adminRoles]).toEqual([]);
    expect(facts.securityGroupName).toBe('ENV-Sales-Prod');
    expect(facts.securityGroupOwnerIds).toEqual([GRAPH_IDS.bob]);
    expect(facts.securityGroupNestedGroups).toEqual([{ id: GRAPH_IDS.nestedGroup, kind: 'group', displayName: 'Sales Contractors' }]);

    const graph = graphRequests(sim.requests);
    expect(graph).toHaveLength(1);
    expect(graph[0]).toMatchObject({ method: 'POST', batchItems: 7, status: 200 });

    const admin = await gateway.getUserAccessFacts(GRAPH_IDS.alice, null);
    expect([...admin.adminRoles]).toEqual(['globalAdministrator']);
    expect(admin.directGroupIds.sort()).toEqual([GRAPH_IDS.envGroup, GRAPH_IDS.otherGroup].sort());
    expect(admin.securityGroupName).toBeNull();

    const missing = await gateway.getUserAccessFacts('ghost@contoso.onmicrosoft.com', GRAPH_IDS.envGroup);
    expect(missing.user).toBeNull();
    expect(missing.directGroupIds).toEqual([]);
  });

  it('reads admin role members, lists subscribed SKUs and group members', async () => {
    const { gateway } = await setUp(graphTenant());

    const roles = await gateway.getAdminRoleMembers();
    expect([...roles.globalAdministrator]).toEqual([GRAPH_IDS.alice]);
    expect([...roles.powerPlatformAdministrator]).toEqual([GRAPH_IDS.bob]);
    expect([...roles.dynamics365Administrator]).toEqual([]);

    const skus = await all(gateway.listSubscribedSkus());
    expect(skus.find((s) => s.skuId === GRAPH_IDS.e3Sku)).toMatchObject({ consumedUnits: 1, enabledUnits: 1 });

    await expect(all(gateway.listGroupMembers(GRAPH_IDS.envGroup))).resolves.toEqual([
      { id: GRAPH_IDS.alice, kind: 'user', displayName: 'alice' },
      { id: GRAPH_IDS.nestedGroup, kind: 'group', displayName: 'Sales Contractors' },
    ]);
  });

  it('honours Retry-After: a throttled answer carries it and the gateway waits at least that long', async () => {
    const { tenant, sim, gateway, credential } = await setUp(graphTenant());
    sim.setFault('graph', { throttleRate: 1, retryAfterSeconds: 1 });

    // What the wire says.
    const token = (await credential.getToken(GRAPH_SCOPE))!.token;
    const raw = await fetch(`${tenant.settings.endpoints.graph}/v1.0/subscribedSkus`, { headers: { Authorization: `Bearer ${token}` } });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('1');
    expect(await raw.json()).toMatchObject({ error: { code: 'TooManyRequests' } });
    const seen = sim.requests.length;

    // What the gateway does with it.
    const started = performance.now();
    const pending = all(gateway.listSubscribedSkus());
    await vi.waitFor(() => expect(sim.requests.slice(seen).some((r) => r.host === 'graph' && r.status === 429)).toBe(true), { timeout: 5_000, interval: 10 });
    sim.setFault('graph', undefined);
    const skus = await pending;
    const elapsed = performance.now() - started;

    expect(skus).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(1_000);
    expect(graphRequests(sim.requests.slice(seen)).map((r) => r.status)).toEqual([429, 200]);
  });
});
