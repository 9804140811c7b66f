import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialOptions } from '../../lib/composition.js';
import { GRAPH_SCOPE } from '../../lib/gateways/graph/client.js';
import { createCredential } from '../../lib/gateways/identity/client.js';
import { GRAPH_IDS, GUEST_UPN, graphTenant } from '../fixtures/graph-tenant.js';
import { simulatedRoleId } from '../../simulator/graph/graph.js';
import { startTestTenant, type TestTenant } from '../support/tenant.js';

/** The simulator's Microsoft Graph wire behaviour, spoken to with plain fetch. */

type Json = Record<string, any>;

let tenant: TestTenant;
let token: string;
let base: string;

beforeAll(async () => {
  tenant = await startTestTenant(graphTenant(), { paging: { graphDefault: 2 } });
  token = (await createCredential(credentialOptions(tenant.settings), tenant.tls).getToken(GRAPH_SCOPE))!.token;
  base = `${tenant.settings.endpoints.graph}/v1.0`;
});
afterAll(async () => {
  await tenant.stop();
});

async function graph(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(path.startsWith('https://') ? path : `${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json: Json | undefined;
  try {
    json = text ? (JSON.parse(text) as Json) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

describe('simulated Microsoft Graph v1.0', () => {
  it('refuses requests without a valid bearer token', async () => {
    const response = await fetch(`${base}/users`);
    expect(response.status).toBe(401);
  });

  it('pages users with absolute next links carrying a $skiptoken and the original query', async () => {
    const first = await graph('GET', '/users?$select=id,userPrincipalName');
    expect(first.status).toBe(200);
    expect(first.json!['@odata.context']).toBe(`${base}/$metadata#users(id,userPrincipalName)`);
    expect(first.json!.value).toEqual([
      { id: GRAPH_IDS.alice, userPrincipalName: 'alice@contoso.onmicrosoft.com' },
      { id: GRAPH_IDS.bob, userPrincipalName: 'bob@contoso.onmicrosoft.com' },
    ]);
    const link = new URL(first.json!['@odata.nextLink'] as string);
    expect(link.origin + link.pathname).toBe(`${base}/users`);
    expect(link.searchParams.get('$select')).toBe('id,userPrincipalName');
    expect(link.searchParams.get('$skiptoken')).toMatch(/\S+/);

    const ids: string[] = [];
    let next: string | undefined = `${base}/users?$select=id&$top=4`;
    while (next) {
      const page = await graph('GET', next);
      ids.push(...(page.json!.value as Json[]).map((u) => u.id as string));
      next = page.json!['@odata.nextLink'] as string | undefined;
    }
    expect(ids).toEqual(tenant.sim.state.graph.users.map((u) => u.id));

    const tooBig = await graph('GET', '/users?$top=1000');
    expect(tooBig.status).toBe(400);
  });

  it('returns the default user properties without $select, and refuses an unknown one', async () => {
    const one = await graph('GET', `/users/${GRAPH_IDS.alice}`);
    expect(Object.keys(one.json!).sort()).toEqual(
      ['@odata.context', 'businessPhones', 'displayName', 'givenName', 'id', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName'].sort(),
    );
    expect(one.json!['@odata.context']).toBe(`${base}/$metadata#users/$entity`);
    const synced = await graph('GET', `/users/${GRAPH_IDS.synced}?$select=id,onPremisesSyncEnabled`);
    expect(synced.json).toMatchObject({ onPremisesSyncEnabled: true });
    const plain = await graph('GET', `/users/${GRAPH_IDS.alice}?$select=onPremisesSyncEnabled`);
    expect(plain.json).toMatchObject({ onPremisesSyncEnabled: null });
    const unknown = await graph('GET', `/users/${GRAPH_IDS.alice}?$select=shoeSize`);
    expect(unknown.status).toBe(400);
  });

  it('answers a missing user with Request_ResourceNotFound in the Graph error shape', async () => {
    const missing = await graph('GET', '/users/nobody%40contoso.onmicrosoft.com', undefined, { 'client-request-id': 'abc-123' });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({
      error: {
        code: 'Request_ResourceNotFound',
        message: "Resource 'nobody@contoso.onmicrosoft.com' does not exist or one of its queried reference-property objects are not present.",
        innerError: { date: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/), 'request-id': expect.any(String), 'client-request-id': 'abc-123' },
      },
    });
  });

  it('finds a guest by UPN in the path only when # is encoded', async () => {
    const encoded = await graph('GET', `/users/${encodeURIComponent(GUEST_UPN)}?$select=id`);
    expect(encoded.json).toMatchObject({ id: GRAPH_IDS.guest });
    const raw = await graph('GET', `/users/${GUEST_UPN.replace("'", "''")}`);
    expect(raw.status).toBe(404); // the part after # never reaches the service
  });

  it('filters users with eq, in and startswith, with OData quote escaping, and refuses what Graph refuses', async () => {
    const filter = async (expression: string, headers: Record<string, string> = {}) => graph('GET', `/users?$select=id&$filter=${encodeURIComponent(expression)}`, undefined, headers);

    expect((await filter("userPrincipalName eq 'o''brien@contoso.com'")).json!.value).toEqual([{ id: GRAPH_IDS.obrien }]);
    expect((await filter("userPrincipalName eq 'O''BRIEN@contoso.com'")).json!.value).toEqual([{ id: GRAPH_IDS.obrien }]);
    expect((await filter(`id in ('${GRAPH_IDS.alice}', '${GRAPH_IDS.bob}')`)).json!.value).toEqual([{ id: GRAPH_IDS.alice }, { id: GRAPH_IDS.bob }]);
    expect((await filter("startswith(userPrincipalName,'john.o''smith')")).json!.value).toEqual([{ id: GRAPH_IDS.guest }]);

    const broken = await filter("userPrincipalName eq 'o'brien@contoso.com'");
    expect(broken.status).toBe(400);
    expect(broken.json!.error.message).toMatch(/^Invalid filter clause/);
    const unsupported = await filter("favouriteColour eq 'blue'");
    expect(unsupported).toMatchObject({ status: 400, json: { error: { code: 'Request_UnsupportedQuery' } } });
    const advanced = await filter("endswith(mail,'@contoso.com')");
    expect(advanced).toMatchObject({ status: 400, json: { error: { code: 'Request_UnsupportedQuery' } } });
  });

  it('counts only with ConsistencyLevel: eventual', async () => {
    const refused = await graph('GET', '/users?$count=true&$select=id');
    expect(refused).toMatchObject({ status: 400, json: { error: { code: 'Request_BadRequest', message: '$count is not currently supported.' } } });
    const counted = await graph('GET', '/users?$count=true&$select=id', undefined, { ConsistencyLevel: 'eventual' });
    expect(counted.json!['@odata.count']).toBe(tenant.sim.state.graph.users.length);
    const plain = await graph('GET', '/users/$count', undefined, { ConsistencyLevel: 'eventual' });
    expect(plain.text).toBe(String(tenant.sim.state.graph.users.length));
  });

  it('lists memberOf (groups and directory roles) and transitiveMemberOf (through nesting)', async () => {
    const direct = await graph('GET', `/users/${GRAPH_IDS.alice}/memberOf?$top=999`);
    const roles = (direct.json!.value as Json[]).filter((o) => o['@odata.type'] === '#microsoft.graph.directoryRole');
    expect(roles).toEqual([
      {
        '@odata.type': '#microsoft.graph.directoryRole',
        id: simulatedRoleId({ roleTemplateId: GRAPH_IDS.globalAdmin }),
        deletedDateTime: null,
        description: null,
        displayName: 'Global Administrator',
        roleTemplateId: GRAPH_IDS.globalAdmin,
      },
    ]);
    const groups = (direct.json!.value as Json[]).filter((o) => o['@odata.type'] === '#microsoft.graph.group').map((g) => g.id);
    expect(groups.sort()).toEqual([GRAPH_IDS.envGroup, GRAPH_IDS.otherGroup].sort());

    const nestedDirect = await graph('GET', `/users/${GRAPH_IDS.obrien}/memberOf?$select=id`);
    expect(nestedDirect.json!.value).toEqual([{ '@odata.type': '#microsoft.graph.group', id: GRAPH_IDS.nestedGroup }]);
    const transitive = await graph('GET', `/users/${GRAPH_IDS.obrien}/transitiveMemberOf?$select=id,displayName`);
    expect(transitive.json!.value).toEqual([
      { '@odata.type': '#microsoft.graph.group', id: GRAPH_IDS.nestedGroup, displayName: 'Sales Contractors' },
      { '@odata.type': '#microsoft.graph.group', id: GRAPH_IDS.envGroup, displayName: 'ENV-Sales-Prod' },
    ]);
  });

  it('lists group members and owners with @odata.type, casts, and roles by template id', async () => {
    const group = await graph('GET', `/groups/${GRAPH_IDS.envGroup}?$select=id,displayName,securityEnabled`);
    expect(group.json).toMatchObject({ id: GRAPH_IDS.envGroup, displayName: 'ENV-Sales-Prod', securityEnabled: true });
    const members = await graph('GET', `/groups/${GRAPH_IDS.envGroup}/members?$select=id`);
    expect(members.json!.value).toEqual([
      { '@odata.type': '#microsoft.graph.user', id: GRAPH_IDS.alice },
      { '@odata.type': '#microsoft.graph.group', id: GRAPH_IDS.nestedGroup },
    ]);
    const onlyGroups = await graph('GET', `/groups/${GRAPH_IDS.envGroup}/members/microsoft.graph.group?$select=id`);
    expect(onlyGroups.json!.value).toEqual([{ '@odata.type': '#microsoft.graph.group', id: GRAPH_IDS.nestedGroup }]);
    const owners = await graph('GET', `/groups/${GRAPH_IDS.envGroup}/owners?$select=id`);
    expect(owners.json!.value).toEqual([{ '@odata.type': '#microsoft.graph.user', id: GRAPH_IDS.bob }]);

    const filtered = await graph('GET', `/directoryRoles?$filter=${encodeURIComponent(`roleTemplateId eq '${GRAPH_IDS.globalAdmin}'`)}`);
    expect(filtered.json!.value).toHaveLength(1);
    const roleId = filtered.json!.value[0].id as string;
    expect(roleId).toBe(simulatedRoleId({ roleTemplateId: GRAPH_IDS.globalAdmin }));
    const byId = await graph('GET', `/directoryRoles/${roleId}/members?$select=id`);
    const byTemplate = await graph('GET', `/directoryRoles(roleTemplateId='${GRAPH_IDS.globalAdmin}')/members?$select=id`);
    expect(byId.json!.value).toEqual([{ '@odata.type': '#microsoft.graph.user', id: GRAPH_IDS.alice }]);
    expect(byTemplate.json!.value).toEqual(byId.json!.value);
  });

  it('creates users with Graph validation and never keeps the password', async () => {
    const body = {
      accountEnabled: true,
      displayName: 'Eve Blu',
      mailNickname: 'eve',
      userPrincipalName: 'eve@contoso.onmicrosoft.com',
      usageLocation: 'IT',
      passwordProfile: { password: 'Kx9$first-Secret', forceChangePasswordNextSignIn: true },
    };
    const created = await graph('POST', '/users', body);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ '@odata.context': `${base}/$metadata#users/$entity`, userPrincipalName: 'eve@contoso.onmicrosoft.com', id: expect.any(String) });
    expect(JSON.stringify(tenant.sim.state)).not.toContain('Kx9$first-Secret');

    const again = await graph('POST', '/users', { ...body, mailNickname: 'eve2' });
    expect(again).toMatchObject({ status: 400, json: { error: { code: 'Request_BadRequest', message: 'Another object with the same value for property userPrincipalName already exists.' } } });
    const { passwordProfile: _omitted, ...withoutPassword } = body;
    expect((await graph('POST', '/users', { ...withoutPassword, userPrincipalName: 'eve3@contoso.onmicrosoft.com' })).status).toBe(400);
    expect((await graph('POST', '/users', { ...body, userPrincipalName: 'eve4@contoso.onmicrosoft.com', passwordProfile: { password: 'short' } })).status).toBe(400);
    expect((await graph('POST', '/users', { ...body, userPrincipalName: 'eve5@unverified.example' })).status).toBe(400);

    const patched = await graph('PATCH', `/users/${created.json!.id as string}`, { jobTitle: 'Buyer' });
    expect(patched.status).toBe(204);
    expect((await graph('GET', `/users/${created.json!.id as string}?$select=jobTitle`)).json).toMatchObject({ jobTitle: 'Buyer' });
    const syncedPatch = await graph('PATCH', `/users/${GRAPH_IDS.synced}`, { displayName: 'Changed' });
    expect(syncedPatch.status).toBe(400);
  });

  it('assigns licenses with the real refusals and keeps consumedUnits', async () => {
    const sku = () => tenant.sim.state.graph.subscribedSkus.find((s) => s.skuId === GRAPH_IDS.salesSku)!;
    const consumed = sku().consumedUnits;

    const noLocation = await graph('POST', `/users/${GRAPH_IDS.noLocation}/assignLicense`, { addLicenses: [{ skuId: GRAPH_IDS.salesSku, disabledPlans: [] }], removeLicenses: [] });
    expect(noLocation.json!.error).toMatchObject({ code: 'Request_BadRequest', message: 'License assignment cannot be done for user with invalid usage location.' });
    const full = await graph('POST', `/users/${GRAPH_IDS.guest}/assignLicense`, { addLicenses: [{ skuId: GRAPH_IDS.e3Sku, disabledPlans: [] }], removeLicenses: [] });
    expect(full.json!.error.message).toBe(`Subscription with SKU ${GRAPH_IDS.e3Sku} does not have any available licenses.`);
    const unknown = await graph('POST', `/users/${GRAPH_IDS.guest}/assignLicense`, { addLicenses: [{ skuId: '00000000-0000-4000-8000-000000000001', disabledPlans: [] }], removeLicenses: [] });
    expect(unknown.status).toBe(400);
    const missingParameter = await graph('POST', `/users/${GRAPH_IDS.guest}/assignLicense`, { addLicenses: [] });
    expect(missingParameter.status).toBe(400);
    expect(sku().consumedUnits).toBe(consumed);

    const assigned = await graph('POST', `/users/${GRAPH_IDS.guest}/assignLicense`, { addLicenses: [{ skuId: GRAPH_IDS.salesSku, disabledPlans: [] }], removeLicenses: [] });
    expect(assigned.status).toBe(200);
    expect(sku().consumedUnits).toBe(consumed + 1);
    const removed = await graph('POST', `/users/${GRAPH_IDS.guest}/assignLicense`, { addLicenses: [], removeLicenses: [GRAPH_IDS.salesSku] });
    expect(removed.status).toBe(200);
    expect(sku().consumedUnits).toBe(consumed);
    const subscribed = await graph('GET', '/subscribedSkus');
    expect(subscribed.json!.value.find((s: Json) => s.skuId === GRAPH_IDS.salesSku)).toMatchObject({ consumedUnits: consumed, prepaidUnits: { enabled: 5 } });
  });

  it('adds and removes group members by $ref with the real refusals', async () => {
    const ref = { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${GRAPH_IDS.bob}` };
    const group = () => tenant.sim.state.graph.groups.find((g) => g.id === GRAPH_IDS.otherGroup)!;

    expect((await graph('POST', `/groups/${GRAPH_IDS.otherGroup}/members/$ref`, ref)).status).toBe(204);
    expect(group().members).toContain(GRAPH_IDS.bob);
    const twice = await graph('POST', `/groups/${GRAPH_IDS.otherGroup}/members/$ref`, ref);
    expect(twice).toMatchObject({
      status: 400,
      json: { error: { code: 'Request_BadRequest', message: "One or more added object references already exist for the following modified properties: 'members'." } },
    });
    expect((await graph('DELETE', `/groups/${GRAPH_IDS.otherGroup}/members/${GRAPH_IDS.bob}/$ref`)).status).toBe(204);
    expect(group().members).not.toContain(GRAPH_IDS.bob);
    const gone = await graph('DELETE', `/groups/${GRAPH_IDS.otherGroup}/members/${GRAPH_IDS.bob}/$ref`);
    expect(gone).toMatchObject({ status: 404, json: { error: { code: 'Request_ResourceNotFound' } } });
  });

  it('answers JSON batches item by item, refuses more than 20 items, and records the item count', async () => {
    const ok = await graph('POST', '/$batch', {
      requests: [
        { id: '1', method: 'GET', url: `/users/${GRAPH_IDS.alice}?$select=id` },
        { id: '2', method: 'GET', url: 'users/nobody@contoso.onmicrosoft.com' },
        { id: '3', method: 'GET', url: `/groups/${GRAPH_IDS.nestedGroup}/members?$select=id` },
      ],
    });
    expect(ok.status).toBe(200);
    const byId = new Map((ok.json!.responses as Json[]).map((r) => [r.id, r]));
    expect(byId.get('1')).toMatchObject({ status: 200, body: { id: GRAPH_IDS.alice } });
    expect(byId.get('2')).toMatchObject({ status: 404, body: { error: { code: 'Request_ResourceNotFound' } } });
    expect(byId.get('3')!.body.value).toEqual([{ '@odata.type': '#microsoft.graph.user', id: GRAPH_IDS.obrien }]);
    expect(tenant.sim.requests.at(-1)).toMatchObject({ method: 'POST', batchItems: 3, status: 200 });

    const tooMany = await graph('POST', '/$batch', { requests: Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/subscribedSkus' })) });
    expect(tooMany.status).toBe(400);
    expect(tenant.sim.requests.at(-1)).toMatchObject({ batchItems: 21, status: 400 });
  });

  it('throttles batch items one by one with Retry-After in the item headers', async () => {
    tenant.sim.setFault('graph', { throttleRate: 1, retryAfterSeconds: 3 });
    try {
      // The batch request itself is drawn too; with every draw throttled it never gets in.
      const outer = await graph('POST', '/$batch', { requests: [{ id: '1', method: 'GET', url: '/subscribedSkus' }] });
      expect(outer.status).toBe(429);
      expect(outer.headers.get('retry-after')).toBe('3');
    } finally {
      tenant.sim.setFault('graph', undefined);
    }
    // At 50% the outer request usually gets in and some of its items are throttled (the draws are
    // seeded, so this is repeatable); a throttled outer request is simply sent again.
    tenant.sim.setFault('graph', { throttleRate: 0.5, retryAfterSeconds: 3 });
    try {
      let items: Json[] = [];
      for (let attempt = 0; attempt < 20 && !items.some((r) => r.status === 429); attempt++) {
        const batch = await graph('POST', '/$batch', { requests: Array.from({ length: 10 }, (_, i) => ({ id: String(i), method: 'GET', url: '/subscribedSkus' })) });
        if (batch.status === 200) items = batch.json!.responses as Json[];
      }
      const throttled = items.filter((r) => r.status === 429);
      expect(throttled.length).toBeGreaterThan(0);
      for (const item of throttled) {
        expect(item.headers['Retry-After']).toBe('3');
        expect(item.body.error.code).toBe('TooManyRequests');
      }
      expect(items.filter((r) => r.status === 200).length).toBeGreaterThan(0);
    } finally {
      tenant.sim.setFault('graph', undefined);
    }
  });
});
