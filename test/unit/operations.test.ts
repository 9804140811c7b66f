import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RouteDefinition } from '../../lib/http/api.js';
import { apiRoutes } from '../../lib/http/routes.js';
import { generateTemporaryPassword } from '../../lib/operations/password.js';
import { ALICE, ENV, ENV_NO_DATAVERSE, GROUP, MemoryTenant, ORG, ROLE_SALES, directoryUser, memoryApp, memoryServices, systemUser } from './support/memory-tenant.js';
import { apiRequest } from './support/requests.js';

/** The use cases through their routes, over a tenant in memory: the rules, without any HTTP. */

const route = (name: string): RouteDefinition => {
  const found = apiRoutes.find((r) => r.name === name);
  if (!found) throw new Error(`no route ${name}`);
  return found;
};

type Body = Record<string, any>;

async function call(services: ReturnType<typeof memoryServices>, name: string, params: Record<string, string>, body?: unknown, headers: Record<string, string> = {}) {
  const response = await route(name).handle(apiRequest({ params, body, headers, method: route(name).methods[0] }), memoryApp(services));
  return { status: response.status, headers: response.headers ?? {}, body: response.body as Body };
}

describe('temporary passwords (U1)', () => {
  it('are long, mix every character class and do not repeat', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const password = generateTemporaryPassword();
      expect(password.length).toBeGreaterThanOrEqual(16);
      expect(password).toMatch(/[A-Z]/);
      expect(password).toMatch(/[a-z]/);
      expect(password).toMatch(/[0-9]/);
      expect(password).toMatch(/[^A-Za-z0-9]/);
      seen.add(password);
    }
    expect(seen.size).toBe(200);
  });
});

describe('create user', () => {
  const newUser = { userPrincipalName: 'dario@contoso.test', displayName: 'Dario Neri', usageLocation: 'it', licenses: ['dyn365_enterprise_sales'], environments: [ENV] };

  it('creates the account with a license and the environment group, and returns the password only when asked', async () => {
    const services = memoryServices();
    const hidden = await call(services, 'users-create', {}, newUser);
    expect(hidden.status).toBe(201);
    expect(hidden.body.temporaryPassword).toBeUndefined();
    expect(services.tenant.lastForceChange).toBe(true);

    const shown = await call(services, 'users-create', {}, { ...newUser, userPrincipalName: 'eva@contoso.test', displayName: 'Eva', returnTemporaryPassword: true });
    expect(shown.status).toBe(201);
    expect(shown.body.temporaryPassword).toBe(services.tenant.lastPassword);
    const eva = services.tenant.user('eva@contoso.test')!;
    expect(eva.usageLocation).toBe('IT');
    expect(eva.assignedSkuIds).toHaveLength(1);
    expect(services.tenant.groups.get(GROUP)!.some((m) => m.id === eva.id)).toBe(true);
  });

  it('needs a usage location with licenses, naming the field', async () => {
    const services = memoryServices();
    const response = await call(services, 'users-create', {}, { ...newUser, usageLocation: undefined, displayName: '' });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: Body) => e.pointer).sort()).toEqual(['#/displayName', '#/usageLocation']);
    expect(services.tenant.calls).toEqual([]);
  });

  it('refuses an unknown SKU and one without free units with 409 naming it and its free count, creating nothing', async () => {
    const services = memoryServices();
    const unknown = await call(services, 'users-create', {}, { ...newUser, licenses: ['NOPE_SKU'] });
    expect(unknown.status).toBe(409);
    expect(unknown.body).toMatchObject({ sku: 'NOPE_SKU', freeUnits: 0 });
    const full = await call(services, 'users-create', {}, { ...newUser, licenses: ['POWERAPPS_PER_USER'] });
    expect(full.status).toBe(409);
    expect(full.body).toMatchObject({ sku: 'POWERAPPS_PER_USER', freeUnits: 0, code: 'no-free-units' });
    expect(full.body.detail).toContain('POWERAPPS_PER_USER');
    expect(services.tenant.calls).toEqual([]);
  });

  it('treats an existing UPN with the same attributes as success without change, and a different one as 409', async () => {
    const services = memoryServices();
    const same = await call(services, 'users-create', {}, { userPrincipalName: 'ALICE@contoso.test', displayName: 'Alice Rossi' });
    expect(same.status).toBe(200);
    expect(same.body.created).toBe(false);
    const different = await call(services, 'users-create', {}, { userPrincipalName: 'alice@contoso.test', displayName: 'Alice Bianchi' });
    expect(different.status).toBe(409);
    expect(different.body.differingFields).toEqual(['displayName']);
    expect(services.tenant.calls).toEqual([]);
  });

  it('explains that a user synced from on-premises AD cannot be changed in the cloud', async () => {
    const tenant = new MemoryTenant();
    tenant.users.push(directoryUser({ id: randomUUID(), userPrincipalName: 'onprem@contoso.test', displayName: 'On Prem', onPremisesSyncEnabled: true }));
    const services = memoryServices(tenant);
    const response = await call(services, 'users-create', {}, { userPrincipalName: 'onprem@contoso.test', displayName: 'Renamed' });
    expect(response.status).toBe(409);
    expect(response.body.code).toBe('user-mastered-on-premises');
    expect(response.body.detail).toMatch(/on-premises/);
  });

  it('refuses an environment without Dataverse (D3) and answers 404 for an unknown one', async () => {
    const services = memoryServices();
    const d3 = await call(services, 'users-create', {}, { ...newUser, environments: [ENV_NO_DATAVERSE] });
    expect(d3.status).toBe(409);
    expect(d3.body.factId).toBe('D3');
    const unknown = await call(services, 'users-create', {}, { ...newUser, environments: ['99999999-9999-4999-8999-999999999999'] });
    expect(unknown.status).toBe(404);
  });

  it('reports a step that failed after the account existed instead of losing the account', async () => {
    const services = memoryServices();
    services.tenant.failures.set('addGroupMember', () => Object.assign(new Error('x'), { name: 'ServiceError' }));
    const response = await call(services, 'users-create', {}, { ...newUser, returnTemporaryPassword: true });
    expect(response.status).toBe(201);
    expect(response.body.temporaryPassword).toBeDefined();
    expect(response.body.incomplete).toEqual([expect.objectContaining({ step: 'security-group', target: ENV })]);
  });
});

describe('enable, status and disable', () => {
  const bob = randomUUID();
  const tenantWithBob = () => {
    const tenant = new MemoryTenant();
    tenant.users.push(directoryUser({ id: bob, userPrincipalName: 'bob@contoso.test', displayName: 'Bob' }));
    return tenant;
  };

  it('answers 202 with Location and Retry-After until the row is enabled, then 200', async () => {
    const tenant = tenantWithBob();
    tenant.addUserEnables = false;
    const services = memoryServices(tenant);
    const enable = await call(services, 'environment-users-enable', { env: ENV, user: 'bob@contoso.test' }, { license: 'DYN365_ENTERPRISE_SALES' });
    expect(enable.status).toBe(202);
    expect(enable.headers['retry-after']).toBe('10');
    expect(enable.headers.location).toBe(`http://127.0.0.1:7071/api/environments/${ENV}/users/${bob}/enable-status`);
    expect(tenant.groups.get(GROUP)!.some((m) => m.id === bob)).toBe(true);
    expect(tenant.user(bob)!.assignedSkuIds).toHaveLength(1);

    const status = route('environment-users-enable-status');
    const pending = await status.handle(apiRequest({ method: 'GET', params: { env: ENV, user: bob } }), memoryApp(services));
    expect(pending.status).toBe(202);
    tenant.rowsOf(ENV).find((r) => r.entraObjectId === bob)!.isDisabled = false;
    const done = await status.handle(apiRequest({ method: 'GET', params: { env: ENV, user: bob } }), memoryApp(services));
    expect(done.status).toBe(200);
    expect((done.body as Body).systemUser.isDisabled).toBe(false);
  });

  it('adds a direct membership even when the user is only in a nested group (E4)', async () => {
    const tenant = tenantWithBob();
    const nested = randomUUID();
    tenant.groups.get(GROUP)!.push({ id: nested, kind: 'group', displayName: 'Nested' });
    const services = memoryServices(tenant);
    const response = await call(services, 'environment-users-enable', { env: ENV, user: bob }, {});
    expect(response.status).toBe(200);
    expect(tenant.calls).toContain(`addGroupMember ${GROUP} ${bob}`);
    expect(response.body.warnings.join(' ')).toMatch(/environment license/);
  });

  it('disables by removing from the group, keeps the license unless asked (E2)', async () => {
    const services = memoryServices();
    const kept = await call(services, 'environment-users-disable', { env: ENV, user: ALICE });
    expect(kept.status).toBe(200);
    expect(kept.body.removedFromSecurityGroup).toBe(true);
    expect(services.tenant.user(ALICE)!.assignedSkuIds).toHaveLength(1);
    const freed = await call(services, 'environment-users-disable', { env: ENV, user: ALICE }, { removeLicenses: true });
    expect(freed.body.licensesRemoved).toEqual(['DYN365_ENTERPRISE_SALES']);
    expect(services.tenant.user(ALICE)!.assignedSkuIds).toEqual([]);
  });

  it('warns when the licenses removed are still needed in another environment', async () => {
    const tenant = new MemoryTenant();
    const other = randomUUID();
    tenant.environments.push({ id: other, displayName: 'Service Prod', type: 'Production', hasDataverse: true, instanceUrl: 'https://svc.crm.test', securityGroupId: null, passForApps: false, createdBy: null });
    tenant.rowsOf(other).push(systemUser({ id: randomUUID(), entraObjectId: ALICE }));
    const services = memoryServices(tenant);
    const response = await call(services, 'environment-users-disable', { env: ENV, user: ALICE }, { removeLicenses: true });
    expect(response.status).toBe(200);
    expect(response.body.stillEnabledIn).toEqual([{ id: other, displayName: 'Service Prod' }]);
    expect(response.body.warnings.join(' ')).toContain('Service Prod');
  });
});

describe('access mode (A2, T3)', () => {
  const fill = (tenant: MemoryTenant, nonInteractive: number, applicationUsers: number) => {
    for (let i = 0; i < nonInteractive; i++) tenant.rowsOf(ENV).push(systemUser({ id: randomUUID(), entraObjectId: randomUUID(), accessMode: 4 }));
    for (let i = 0; i < applicationUsers; i++) tenant.rowsOf(ENV).push(systemUser({ id: randomUUID(), applicationId: randomUUID(), accessMode: 4 }));
  };

  it('refuses non-interactive when 7 are enabled, not counting application users', async () => {
    const full = new MemoryTenant();
    fill(full, 7, 0);
    const refused = await call(memoryServices(full), 'environment-users-access-mode', { env: ENV, user: ALICE }, { accessMode: 'non-interactive' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ factId: 'T3', enabledNonInteractive: 7 });
    expect(full.calls).toEqual([]);

    const withApps = new MemoryTenant();
    fill(withApps, 6, 5);
    const allowed = await call(memoryServices(withApps), 'environment-users-access-mode', { env: ENV, user: ALICE }, { accessMode: 'non-interactive', removeLicenses: true });
    expect(allowed.status).toBe(200);
    expect(allowed.body.systemUser.accessMode).toBe('non-interactive');
    expect(allowed.body.licensesRemoved).toEqual(['DYN365_ENTERPRISE_SALES']);
    // T3: the mode is set before the license goes.
    expect(withApps.calls.findIndex((c) => c.startsWith('updateSystemUser'))).toBeLessThan(withApps.calls.findIndex((c) => c.startsWith('assignLicenses')));
  });

  it('removes the license of an administrative user only when the user is a service admin (A2)', async () => {
    const tenant = new MemoryTenant();
    const services = memoryServices(tenant);
    const refused = await call(services, 'environment-users-access-mode', { env: ENV, user: ALICE }, { accessMode: 'administrative', removeLicenses: true });
    expect(refused.status).toBe(409);
    expect(refused.body.factId).toBe('A2');
    tenant.admins.powerPlatformAdministrator.add(ALICE);
    const done = await call(services, 'environment-users-access-mode', { env: ENV, user: ALICE }, { accessMode: 'administrative', removeLicenses: true });
    expect(done.status).toBe(200);
    expect(done.body.systemUser.accessMode).toBe('administrative');
  });
});

describe('roles (E5) and application users (T2)', () => {
  it('refuses a role for a disabled user unless the organization allows it', async () => {
    const tenant = new MemoryTenant();
    tenant.rowsOf(ENV)[0]!.isDisabled = true;
    tenant.rowsOf(ENV)[0]!.roleIds = [];
    const services = memoryServices(tenant);
    const refused = await call(services, 'environment-users-roles', { env: ENV, user: ALICE }, { role: 'salesperson' });
    expect(refused.status).toBe(409);
    expect(refused.body.factId).toBe('E5');
    tenant.orgSettings.set(ENV, { allowRoleAssignmentOnDisabledUsers: true });
    const allowed = await call(services, 'environment-users-roles', { env: ENV, user: ALICE }, { role: ROLE_SALES });
    expect(allowed.status).toBe(200);
    expect(allowed.body.systemUser.roleIds).toEqual([ROLE_SALES]);
    expect((await call(services, 'environment-users-roles', { env: ENV, user: ALICE }, { role: 'Nope' })).status).toBe(404);
  });

  it('creates an application user in the root business unit once', async () => {
    const services = memoryServices();
    const applicationId = randomUUID();
    const first = await call(services, 'application-users-create', { env: ENV }, { applicationId, roles: ['Basic User'] });
    expect(first.status).toBe(201);
    expect(first.body.systemUser).toMatchObject({ applicationId, accessMode: 'non-interactive', businessUnitId: expect.any(String) });
    const again = await call(services, 'application-users-create', { env: ENV }, { applicationId, roles: ['Basic User'] });
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(false);
    expect(services.tenant.calls.filter((c) => c.startsWith('createApplicationUser'))).toHaveLength(1);
  });
});

describe('Salesforce integration user (S1)', () => {
  it('activates the inactive integration user, and answers 404 for an unknown org', async () => {
    const tenant = new MemoryTenant();
    tenant.salesforce.set(ORG, {
      name: 'Contoso',
      snapshot: {
        orgId: ORG, userLicenses: [], integrationProfiles: [], copilotPermissionSets: [], permissionSetAssignments: [],
        permissionSetLicenses: [], permissionSetLicenseAssignments: [], copilotConnectedApps: [],
        integrationUsers: [{ id: '0055g00000INT01AAA', username: 'copilotforsalesintegrationuser@contoso.sf', isActive: false, profileId: null, userType: 'Standard' }],
      },
    });
    const services = memoryServices(tenant);
    const response = await call(services, 'salesforce-integration-user-activate', { org: ORG });
    expect(response.status).toBe(200);
    expect(response.body.activated).toEqual([{ id: '0055g00000INT01AAA', username: 'copilotforsalesintegrationuser@contoso.sf' }]);
    expect((await call(services, 'salesforce-integration-user-activate', { org: '00D000000000000AAA' })).status).toBe(404);
  });
});
