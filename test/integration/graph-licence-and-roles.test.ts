import { afterEach, describe, expect, it } from 'vitest';
import { credentialOptions, gatewayOptions } from '../../lib/composition.js';
import { GRAPH_SCOPE } from '../../lib/gateways/graph/client.js';
import { GraphDirectoryGateway } from '../../lib/gateways/graph/operations.js';
import { createCredential } from '../../lib/gateways/identity/client.js';
import { allPages } from '../../lib/gateways/http/pages.js';
import type { Fixture } from '../../simulator/index.js';
import { adminRoles, entraUser, fastRetry, fixtureOf, stableId, subscribedSku } from '../support/builders.js';
import { startTestTenant, type TestTenant } from '../support/tenant.js';

/**
 * The Graph reads of SPEC §7 and R2 against the simulated Graph: admin roles through role
 * assignments (paged; held through role-assignable groups, U5), the user properties of L2 and L3
 * in the audit's pages, and the 403 of L2.
 */

const id = (name: string) => stableId('graph-licence-and-roles', name);
const SKU = { sales: id('sku-sales'), e3: id('sku-e3') };

const tenants: TestTenant[] = [];
afterEach(async () => {
  await Promise.all(tenants.splice(0).map((t) => t.stop()));
});

async function setUp(fixture: Fixture) {
  const tenant = await startTestTenant(fixture);
  tenants.push(tenant);
  const credential = createCredential(credentialOptions(tenant.settings), tenant.tls);
  const gateway = new GraphDirectoryGateway({ ...gatewayOptions(tenant.settings).directory, credential, retry: fastRetry(), concurrency: 4 });
  const graph = async (path: string) => {
    const token = (await credential.getToken(GRAPH_SCOPE))!.token;
    const response = await fetch(`${tenant.settings.endpoints.graph}/v1.0${path}`, { headers: { Authorization: `Bearer ${token}` } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return { tenant, gateway, graph };
}

const person = (name: string, extra: Record<string, unknown> = {}, skuIds: string[] = []) =>
  entraUser({ id: id(name), userPrincipalName: `${name}@contoso.onmicrosoft.com`, givenName: name, surname: 'Test', skuIds }, extra);

describe('admin roles (R2, U5)', () => {
  it('reads all 1,200 Global Administrators through paged role assignments, where directoryRoles members stops at 1,000', async () => {
    const admins = Array.from({ length: 1200 }, (_, i) => person(`admin${i}`));
    const { gateway, graph, tenant } = await setUp(
      fixtureOf({ graph: { users: admins, directoryRoles: adminRoles({ globalAdministrator: admins.map((a) => a.id) }) } }),
    );

    const roles = await gateway.getAdminRoleMembers();
    expect(roles.globalAdministrator.size).toBe(1200);
    expect(roles.globalAdministrator.has(admins[1199]!.id)).toBe(true);

    // What the old read got: 1,000 objects, `$top` ignored, no next link (directoryrole-list-members).
    const old = await graph(`/directoryRoles(roleTemplateId='62e90394-69f5-4237-9190-012177145e10')/members?$select=id&$top=999`);
    expect((old.body.value as unknown[]).length).toBe(1000);
    expect(old.body['@odata.nextLink']).toBeUndefined();
    // The new one followed next links to the end: more than one page of assignments was read.
    // The first page came in the $batch; the eleven further pages of 100 were followed directly.
    const further = tenant.sim.requests.filter((r) => r.host === 'graph' && r.url.includes('/roleManagement/directory/roleAssignments'));
    expect(further).toHaveLength(11);
  });

  it('gives the role to the direct members of a role-assignable group that holds it (U5)', async () => {
    const ops = person('ops');
    const lead = person('lead');
    const outsider = person('outsider');
    const group = { id: id('group-admins'), displayName: 'PP Admins', securityEnabled: true, isAssignableToRole: true, members: [ops.id, lead.id], owners: [outsider.id] };
    const { gateway, graph } = await setUp(
      fixtureOf({ graph: { users: [ops, lead, outsider], groups: [group], directoryRoles: adminRoles({ powerPlatformAdministrator: [group.id] }) } }),
    );

    const roles = await gateway.getAdminRoleMembers();
    expect([...roles.powerPlatformAdministrator].sort()).toEqual([ops.id, lead.id].sort());
    expect(roles.globalAdministrator.size).toBe(0);

    const assignments = await graph(
      `/roleManagement/directory/roleAssignments?$filter=${encodeURIComponent("roleDefinitionId eq '11648597-926c-4cf3-9c36-bcebb0ba8dcc'")}&$expand=principal`,
    );
    expect(assignments.body.value).toEqual([
      expect.objectContaining({ principalId: group.id, roleDefinitionId: '11648597-926c-4cf3-9c36-bcebb0ba8dcc', principal: expect.objectContaining({ '@odata.type': '#microsoft.graph.group', id: group.id }) }),
    ]);
  });
});

describe('the audit listing of users (L2, L3)', () => {
  const skus = [subscribedSku(SKU.sales, 'DYN365_ENTERPRISE_SALES', { consumed: 1, enabled: 1 }), subscribedSku(SKU.e3, 'SPE_E3', { consumed: 2, enabled: 5 })];
  const active = person('active', {
    createdDateTime: '2024-01-10T08:00:00Z',
    signInActivity: { lastSignInDateTime: '2026-01-02T09:00:00Z', lastNonInteractiveSignInDateTime: '2026-11-30T10:00:00Z', lastSuccessfulSignInDateTime: '2026-11-30T10:00:00Z' },
  }, [SKU.e3]);
  const failing = person('failing', {
    licenseAssignmentStates: [
      { skuId: SKU.sales, state: 'Error', error: 'CountViolation', assignedByGroup: id('group-sales-licences') },
      { skuId: SKU.e3, state: 'Active', error: null, assignedByGroup: null },
    ],
  }, [SKU.sales, SKU.e3]);

  it('reads signInActivity, createdDateTime and licence states in the same pages; a licence in Error is not held', async () => {
    const { gateway } = await setUp(fixtureOf({ graph: { subscribedSkus: skus, users: [active, failing] } }));
    const refused: string[] = [];

    const users = await allPages(gateway.listUsers({ onSignInActivityRefused: (m) => refused.push(m) }));

    expect(refused).toEqual([]);
    const byName = new Map(users.map((u) => [u.userPrincipalName.split('@')[0], u]));
    expect(byName.get('active')).toMatchObject({
      createdDateTime: '2024-01-10T08:00:00Z',
      signInActivity: { lastSignInDateTime: '2026-01-02T09:00:00Z', lastNonInteractiveSignInDateTime: '2026-11-30T10:00:00Z' },
      licenseErrors: [],
    });
    expect(byName.get('failing')).toMatchObject({
      assignedSkuIds: [SKU.e3],
      licenseErrors: [{ skuId: SKU.sales, error: 'CountViolation', assignedByGroup: id('group-sales-licences') }],
      signInActivity: { lastSignInDateTime: null, lastNonInteractiveSignInDateTime: null },
    });
  });

  it('goes on without signInActivity when the tenant refuses it with the 403 of L2, and says so', async () => {
    const { gateway, tenant } = await setUp(fixtureOf({ tenant: { signInActivityAvailable: false }, graph: { subscribedSkus: skus, users: [active, failing] } }));
    const refused: string[] = [];

    const users = await allPages(gateway.listUsers({ onSignInActivityRefused: (m) => refused.push(m) }));

    expect(users).toHaveLength(2);
    expect(users.every((u) => u.signInActivity === null)).toBe(true);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/premium license/);
    const listing = tenant.sim.requests.filter((r) => r.host === 'graph' && r.url.includes('/v1.0/users'));
    expect(listing.map((r) => r.status)).toEqual([403, 200]);
    // A single user's read never asks for signInActivity: it works in such a tenant.
    await expect(gateway.getUser(active.id)).resolves.toMatchObject({ id: active.id, signInActivity: null });
  });
});
