import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialOptions } from '../../lib/composition.js';
import { GRAPH_SCOPE } from '../../lib/gateways/graph/client.js';
import { createCredential } from '../../lib/gateways/identity/client.js';
import { generateTenant } from '../../simulator/core/generate.js';
import { GRAPH_IDS, graphTenant } from '../fixtures/graph-tenant.js';
import { startTestTenant, type TestTenant } from '../support/tenant.js';

/** The simulator's two delta protocols (SPEC §9), spoken to with plain fetch. */

type Json = Record<string, any>;

async function call(token: string, url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers: { Authorization: `Bearer ${token}`, ...headers } });
  return { status: response.status, json: (await response.json()) as Json };
}

/** Every page of a round, to its delta link. */
async function round(token: string, url: string, headers: Record<string, string> = {}) {
  const items: Json[] = [];
  let pages = 0;
  for (let next: string | undefined = url; ; ) {
    const page = await call(token, next, headers);
    expect(page.status).toBe(200);
    pages++;
    items.push(...(page.json.value as Json[]));
    next = page.json['@odata.nextLink'];
    if (!next) return { items, pages, deltaLink: page.json['@odata.deltaLink'] as string };
  }
}

describe('Graph delta query (simulated)', () => {
  let tenant: TestTenant;
  let token: string;
  let base: string;
  beforeAll(async () => {
    tenant = await startTestTenant(graphTenant(), { paging: { graphDefault: 2 } });
    token = (await createCredential(credentialOptions(tenant.settings), tenant.tls).getToken(GRAPH_SCOPE))!.token;
    base = `${tenant.settings.endpoints.graph}/v1.0`;
  });
  afterAll(() => tenant.stop());

  it('answers every user in linked pages, then only changes, removals as @removed, and 410 resyncRequired for an expired token', async () => {
    const initial = await round(token, `${base}/users/delta?$select=id,accountEnabled,assignedLicenses`);
    expect(initial.items.map((u) => u.id).sort()).toEqual(tenant.sim.state.graph.users.map((u) => u.id).sort());
    expect(initial.pages).toBeGreaterThan(1);
    expect(new URL(initial.deltaLink).searchParams.get('$select')).toBe('id,accountEnabled,assignedLicenses');
    expect(new URL(initial.deltaLink).searchParams.get('$deltatoken')).toMatch(/\S+/);

    const quiet = await round(token, initial.deltaLink);
    expect(quiet.items).toEqual([]);

    // A "night": changes made straight in the tenant's state show as changes.
    const users = tenant.sim.state.graph.users;
    users.find((u) => u.id === GRAPH_IDS.bob)!.accountEnabled = false;
    users.splice(users.findIndex((u) => u.id === GRAPH_IDS.guest), 1);
    const changed = await round(token, quiet.deltaLink);
    expect(changed.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: GRAPH_IDS.bob, accountEnabled: false }),
        { '@odata.type': '#microsoft.graph.user', id: GRAPH_IDS.guest, '@removed': { reason: 'changed' } },
      ]),
    );
    expect(changed.items).toHaveLength(2);

    tenant.sim.setFault('graph', { deltaTokenExpired: true });
    const refused = await call(token, changed.deltaLink);
    tenant.sim.setFault('graph', undefined);
    expect(refused.status).toBe(410);
    expect(refused.json.error.code).toBe('resyncRequired');
  });

  it('gives a token without data for $deltatoken=latest', async () => {
    const latest = await round(token, `${base}/users/delta?$select=id,accountEnabled&$deltatoken=latest`);
    expect(latest.items).toEqual([]);
    tenant.sim.state.graph.users.find((u) => u.id === GRAPH_IDS.alice)!.accountEnabled = false;
    const after = await round(token, latest.deltaLink);
    expect(after.items).toEqual([{ id: GRAPH_IDS.alice, accountEnabled: false }]);
  });

  it('reports group members added and removed in members@delta, for the groups of an id filter', async () => {
    const filter = encodeURIComponent(`id eq '${GRAPH_IDS.envGroup}' or id eq '${GRAPH_IDS.otherGroup}'`);
    const initial = await round(token, `${base}/groups/delta?$filter=${filter}&$select=displayName,members`);
    expect(initial.items.map((g) => g.id).sort()).toEqual([GRAPH_IDS.envGroup, GRAPH_IDS.otherGroup].sort());
    const env = initial.items.find((g) => g.id === GRAPH_IDS.envGroup)!;
    expect(env['members@delta'].map((m: Json) => m.id).sort()).toEqual([GRAPH_IDS.alice, GRAPH_IDS.nestedGroup].sort());

    const group = tenant.sim.state.graph.groups.find((g) => g.id === GRAPH_IDS.envGroup)!;
    group.members = [GRAPH_IDS.nestedGroup, GRAPH_IDS.bob];
    const changed = await round(token, initial.deltaLink);
    expect(changed.items).toHaveLength(1);
    expect(changed.items[0]!['members@delta']).toEqual(
      expect.arrayContaining([
        { '@odata.type': '#microsoft.graph.user', id: GRAPH_IDS.bob },
        { '@odata.type': '#microsoft.graph.user', id: GRAPH_IDS.alice, '@removed': { reason: 'deleted' } },
      ]),
    );
    expect(changed.items[0]!['members@delta']).toHaveLength(2);
  });
});

describe('Dataverse change tracking (simulated)', () => {
  let tenant: TestTenant;
  let token: string;
  let api: string;
  const TRACK = { Prefer: 'odata.track-changes,odata.maxpagesize=3' };
  beforeAll(async () => {
    tenant = await startTestTenant(generateTenant({ users: 10, environments: 1, systemusersPerEnvironment: 8, salesforceOrgs: 0, seed: 'delta' }));
    const environment = tenant.sim.state.environments[0]!;
    const instance = tenant.sim.urls.dataverse[environment.id]!;
    token = (await createCredential(credentialOptions(tenant.settings), tenant.tls).getToken(`${instance}/.default`))!.token;
    api = `${instance}/api/data/v9.2`;
  });
  afterAll(() => tenant.stop());

  it('answers the rows, a delta link, then changed rows and $deletedEntity rows; an expired token is 0x80044352', async () => {
    const rows = tenant.sim.state.environments[0]!.systemusers;
    const initial = await round(token, `${api}/systemusers?$select=systemuserid,isdisabled,accessmode`, TRACK);
    expect(initial.items).toHaveLength(rows.length);
    expect(initial.pages).toBeGreaterThan(1);
    expect(await round(token, initial.deltaLink, TRACK)).toMatchObject({ items: [] });

    const [first, second] = rows;
    first!.isdisabled = true;
    rows.splice(rows.indexOf(second!), 1);
    const changed = await round(token, initial.deltaLink, TRACK);
    // The first delta link was used once already: a token stays valid for the changes since it.
    expect(changed.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ systemuserid: first!.systemuserid, isdisabled: true }),
        { '@odata.context': `${api}/$metadata#systemusers/$deletedEntity`, id: second!.systemuserid, reason: 'deleted' },
      ]),
    );
    expect(changed.items).toHaveLength(2);

    tenant.sim.setFault('dataverse', { deltaTokenExpired: true });
    const refused = await call(token, changed.deltaLink, TRACK);
    tenant.sim.setFault('dataverse', undefined);
    expect(refused.status).toBe(400);
    expect(refused.json.error.code).toBe('0x80044352');
  });

  it('tracks roles given and taken as rows of the systemuserroles intersect table, and refuses $expand', async () => {
    const expand = await call(token, `${api}/systemusers?$select=systemuserid&$expand=systemuserroles_association($select=roleid)`, TRACK);
    expect(expand.status).toBe(400);
    const initial = await round(token, `${api}/systemuserrolescollection?$select=systemuserid,roleid`, TRACK);
    const row = tenant.sim.state.environments[0]!.systemusers.find((r) => (r.roles ?? []).length > 0)!;
    expect(initial.items).toEqual(expect.arrayContaining([expect.objectContaining({ systemuserid: row.systemuserid, roleid: row.roles![0] })]));
    const taken = row.roles![0]!;
    row.roles = row.roles!.slice(1);
    const changed = await round(token, initial.deltaLink, TRACK);
    const removed = initial.items.find((i) => i.systemuserid === row.systemuserid && i.roleid === taken)!;
    expect(changed.items).toEqual([{ '@odata.context': `${api}/$metadata#systemuserrolescollection/$deletedEntity`, id: removed.systemuserroleid, reason: 'deleted' }]);
  });
});
