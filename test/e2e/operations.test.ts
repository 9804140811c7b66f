import { HttpRequest, InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpHandler } from '../../functions/http.js';
import { readOperationLog } from '../../lib/http/operation-log.js';
import { apiRoutes } from '../../lib/http/routes.js';
import { ENV, GROUP, ROLE, ROOT_BU, SF_INTEGRATION_USER, SF_ORG, SF_ORG_FULL, SKU, USER, operationsTenant, upn } from '../fixtures/operations-tenant.js';
import { startHarness, type Harness } from './support/harness.js';
import { tenantState } from './support/state.js';

/**
 * Every mutating route of SPEC §4 end to end: HTTP → route handler → use case → real gateways →
 * the simulated tenant, with Azurite for idempotency keys and the operation log. Each test names
 * its own subjects in the Fabrikam fixture, so the tests share one tenant without depending on
 * their order.
 */

let h: Harness;
let state: ReturnType<typeof tenantState>;

beforeAll(async () => {
  h = await startHarness(operationsTenant());
  state = tenantState(h.sim);
});
afterAll(() => h?.stop());

const PROBLEM = 'application/problem+json';
const pointers = (body: { errors: { in: string; pointer: string }[] }) => body.errors.map((e) => `${e.in} ${e.pointer}`).sort();

describe('POST /api/users', () => {
  it('creates the account with its license and environment group, and returns a strong temporary password once (U1)', async () => {
    const consumedBefore = state.consumed(SKU.sales.skuId)!;
    const answer = await h.call('POST', 'users', {
      body: {
        userPrincipalName: upn('nora'),
        displayName: 'Nora Sala',
        givenName: 'Nora',
        surname: 'Sala',
        jobTitle: 'Sales Rep',
        department: 'Sales',
        usageLocation: 'IT',
        licenses: ['DYN365_ENTERPRISE_SALES'],
        environments: [ENV.sales],
        returnTemporaryPassword: true,
      },
    });
    expect(answer.status).toBe(201);
    const password: string = answer.body.temporaryPassword;
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(password).toMatch(/[A-Z]/);
    expect(password).toMatch(/[a-z]/);
    expect(password).toMatch(/\d/);
    expect(password).toMatch(/[^A-Za-z0-9]/);
    expect(answer.body.user).toMatchObject({ userPrincipalName: upn('nora'), usageLocation: 'IT' });
    expect(answer.body.incomplete).toEqual([]);

    const nora = state.user(upn('nora'))!;
    expect(nora.usageLocation).toBe('IT');
    expect(state.licensesOf(nora.id)).toEqual([SKU.sales.skuId]);
    expect(state.consumed(SKU.sales.skuId)).toBe(consumedBefore + 1);
    expect(state.members(GROUP.sales)).toContain(nora.id);
    // Never kept: not in the simulated directory, not in Steward's tables.
    expect(JSON.stringify(h.sim.exportState())).not.toContain(password);
    const log = await readOperationLog(h.services.tables, new Date());
    expect(JSON.stringify(log)).not.toContain(password);
  });

  it('does not return the password unless asked for', async () => {
    const answer = await h.call('POST', 'users', { body: { userPrincipalName: upn('olga'), displayName: 'Olga Riva' } });
    expect(answer.status).toBe(201);
    expect(answer.body).not.toHaveProperty('temporaryPassword');
    expect(state.user(upn('olga'))).toBeDefined();
  });

  it('names every bad field in one 400 problem+json, and creates nothing', async () => {
    const usersBefore = h.sim.state.graph.users.length;
    const answer = await h.call('POST', 'users', {
      body: { userPrincipalName: 'not-a-upn', licenses: ['DYN365_ENTERPRISE_SALES'], returnTemporaryPassword: 'yes', colour: 'blue' },
    });
    expect(answer.status).toBe(400);
    expect(answer.contentType).toBe(PROBLEM);
    expect(pointers(answer.body)).toEqual([
      'body #/colour',
      'body #/displayName',
      'body #/returnTemporaryPassword',
      'body #/usageLocation',
      'body #/userPrincipalName',
    ]);
    expect(h.sim.state.graph.users.length).toBe(usersBefore);
  });

  it('answers a body that is not JSON with 400', async () => {
    const answer = await h.call('POST', 'users', { rawBody: '{"userPrincipalName":', headers: { 'content-type': 'application/json' } });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ in: 'body', pointer: '#', detail: 'the body is not valid JSON' }]);
  });

  it('answers 404 for an unknown environment and 409 for one without Dataverse (D3)', async () => {
    const unknown = await h.call('POST', 'users', {
      body: { userPrincipalName: upn('pia'), displayName: 'Pia', environments: ['0b5c1f8e-0000-4000-8000-000000000000'] },
    });
    expect(unknown.status).toBe(404);
    const d3 = await h.call('POST', 'users', { body: { userPrincipalName: upn('pia'), displayName: 'Pia', environments: [ENV.noDatabase] } });
    expect(d3.status).toBe(409);
    expect(d3.body.factId).toBe('D3');
    expect(state.user(upn('pia'))).toBeUndefined();
  });

  it('refuses a SKU with no free units, or an unknown one, with 409 naming it and its free count', async () => {
    const full = await h.call('POST', 'users', {
      body: { userPrincipalName: upn('quinn'), displayName: 'Quinn', usageLocation: 'IT', licenses: ['POWERAPPS_PER_USER'] },
    });
    expect(full.status).toBe(409);
    expect(full.body).toMatchObject({ code: 'no-free-units', sku: 'POWERAPPS_PER_USER', freeUnits: 0 });
    expect(full.body.detail).toContain('POWERAPPS_PER_USER');
    const unknown = await h.call('POST', 'users', {
      body: { userPrincipalName: upn('quinn'), displayName: 'Quinn', usageLocation: 'IT', licenses: ['NOT_A_SKU'] },
    });
    expect(unknown.status).toBe(409);
    expect(unknown.body).toMatchObject({ code: 'unknown-sku', sku: 'NOT_A_SKU', freeUnits: 0 });
    expect(state.user(upn('quinn'))).toBeUndefined();
    expect(state.consumed(SKU.powerApps.skuId)).toBe(3);
  });

  it('treats an existing UPN with the same attributes as success without change, a different one as 409', async () => {
    const before = JSON.stringify(h.sim.exportState());
    const same = await h.call('POST', 'users', { body: { userPrincipalName: upn('alice'), displayName: 'Alice Rossi', givenName: 'Alice' } });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ created: false, user: { id: USER.alice } });
    const different = await h.call('POST', 'users', { body: { userPrincipalName: upn('alice'), displayName: 'Alice Verdi' } });
    expect(different.status).toBe(409);
    expect(different.body).toMatchObject({ code: 'user-exists', differingFields: ['displayName'] });
    expect(JSON.stringify(h.sim.exportState())).toBe(before);
  });

  it('refuses to change a user synced from on-premises AD, saying why', async () => {
    const answer = await h.call('POST', 'users', { body: { userPrincipalName: upn('owen'), displayName: 'Owen Renamed' } });
    expect(answer.status).toBe(409);
    expect(answer.body.code).toBe('user-mastered-on-premises');
    expect(answer.body.detail).toMatch(/on-premises Active Directory/);
    expect(state.user(upn('owen'))!.displayName).toBe('Owen Premi');
  });

  it('replays the first answer for a repeated Idempotency-Key, without the password, and creates one user', async () => {
    const body = { userPrincipalName: upn('rita'), displayName: 'Rita Gallo', returnTemporaryPassword: true };
    const headers = { 'Idempotency-Key': 'joiner-rita-1' };
    const first = await h.call('POST', 'users', { body, headers });
    const replay = await h.call('POST', 'users', { body, headers });
    expect(first.status).toBe(201);
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.user).toEqual(first.body.user);
    expect(replay.body).not.toHaveProperty('temporaryPassword');
    expect(replay.body.temporaryPasswordNotice).toMatch(/only in the first answer/);
    expect(h.sim.state.graph.users.filter((u) => u.userPrincipalName === upn('rita'))).toHaveLength(1);

    const reused = await h.call('POST', 'users', { body: { ...body, displayName: 'Someone Else' }, headers });
    expect(reused.status).toBe(422);
    expect(reused.contentType).toBe(PROBLEM);
  });

  it('absorbs upstream throttling (429 with Retry-After) through the gateways\' retries', async () => {
    const before = h.sim.requests.length;
    h.sim.setFault('graph', { throttleRate: 0.5, retryAfterSeconds: 0 });
    try {
      const answer = await h.call('POST', 'users', {
        body: { userPrincipalName: upn('sara'), displayName: 'Sara Fumagalli', usageLocation: 'IT', licenses: ['SPE_E3'], environments: [ENV.service] },
      });
      expect(answer.status).toBe(201);
      expect(answer.body.incomplete).toEqual([]);
    } finally {
      h.sim.setFault('graph', undefined);
    }
    expect(h.sim.requests.slice(before).filter((r) => r.host === 'graph' && r.status === 429).length).toBeGreaterThan(0);
    const sara = state.user(upn('sara'))!;
    expect(state.licensesOf(sara.id)).toEqual([SKU.e3.skuId]);
    expect(state.members(GROUP.service)).toContain(sara.id);
  });
});

describe('POST /api/environments/{env}/users/{user}/enable', () => {
  it('makes a nested-only member a direct member (E4), forces the sync, and answers 200 with the enabled row', async () => {
    expect(state.row(ENV.sales, USER.carol)).toBeUndefined();
    const answer = await h.call('POST', `environments/${ENV.sales}/users/${upn('carol')}/enable`);
    expect(answer.status).toBe(200);
    expect(answer.body.state).toBe('enabled');
    expect(answer.body.systemUser).toMatchObject({ entraObjectId: USER.carol, isDisabled: false });
    expect(state.members(GROUP.sales)).toContain(USER.carol);
    expect(state.row(ENV.sales, USER.carol)).toMatchObject({ isdisabled: false });
  });

  it('refuses a disabled Entra account (D4.1), an environment without Dataverse (D3), and a license with no free units', async () => {
    const disabled = await h.call('POST', `environments/${ENV.sales}/users/${upn('dora')}/enable`);
    expect(disabled.status).toBe(409);
    expect(disabled.body.factId).toBe('D4.1');
    const d3 = await h.call('POST', `environments/${ENV.noDatabase}/users/${upn('alice')}/enable`);
    expect(d3.status).toBe(409);
    expect(d3.body.factId).toBe('D3');
    const noUnits = await h.call('POST', `environments/${ENV.sales}/users/${upn('hugo')}/enable`, { body: { license: 'POWERAPPS_PER_USER' } });
    expect(noUnits.status).toBe(409);
    expect(noUnits.body).toMatchObject({ sku: 'POWERAPPS_PER_USER', freeUnits: 0 });
    expect(state.members(GROUP.sales)).not.toContain(USER.hugo);
    expect(state.members(GROUP.sales)).not.toContain(USER.dora);
  });

  it('refuses a license for a user without usage location', async () => {
    const answer = await h.call('POST', `environments/${ENV.sales}/users/${upn('sid')}/enable`, { body: { license: 'SPE_E3' } });
    expect(answer.status).toBe(409);
    expect(answer.body.code).toBe('usage-location-missing');
    expect(state.licensesOf(USER.sid)).toEqual([]);
  });

  it('answers 404 for an unknown user or environment and 400 for malformed ones', async () => {
    expect((await h.call('POST', `environments/${ENV.sales}/users/${upn('nobody')}/enable`)).status).toBe(404);
    expect((await h.call('POST', `environments/0b5c1f8e-0000-4000-8000-000000000000/users/${upn('alice')}/enable`)).status).toBe(404);
    const bad = await h.call('POST', `environments/bad%20env/users/not-a-user/enable`, { body: { license: 7, extra: true } });
    expect(bad.status).toBe(400);
    expect(pointers(bad.body)).toEqual(['body #/extra', 'body #/license', 'path #/env', 'path #/user']);
  });

  it('reports the row status on the Location route', async () => {
    const enabled = await h.call('GET', `environments/${ENV.sales}/users/${USER.alice}/enable-status`);
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ state: 'enabled', systemUser: { entraObjectId: USER.alice } });
    const waiting = await h.call('GET', `environments/${ENV.sales}/users/${USER.bob}/enable-status`);
    expect(waiting.status).toBe(202);
    expect(waiting.headers.get('retry-after')).toBe('10');
    expect(waiting.headers.get('location')).toBe(`${h.server.origin}/api/environments/${ENV.sales}/users/${USER.bob}/enable-status`);
    expect((await h.call('GET', `environments/${ENV.sales}/users/${USER.bob}/enable-status?until=soon`)).status).toBe(400);
  });
});

describe('POST /api/environments/{env}/users/{user}/disable', () => {
  it('removes the user from the security group (E2) and, when asked, the licenses, warning where they are still needed', async () => {
    const answer = await h.call('POST', `environments/${ENV.service}/users/${upn('erin')}/disable`, { body: { removeLicenses: true } });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ removedFromSecurityGroup: true, licensesRemoved: ['DYN365_ENTERPRISE_SALES'] });
    expect(answer.body.stillEnabledIn).toEqual([{ id: ENV.sales, displayName: 'Fabrikam Sales' }]);
    expect(answer.body.warnings.join(' ')).toContain('Fabrikam Sales');
    expect(state.members(GROUP.service)).not.toContain(USER.erin);
    expect(state.members(GROUP.sales)).toContain(USER.erin);
    expect(state.licensesOf(USER.erin)).toEqual([]);
  });

  it('keeps the license unless asked (E2)', async () => {
    const answer = await h.call('POST', `environments/${ENV.sales}/users/${upn('gina')}/disable`);
    expect(answer.status).toBe(200);
    expect(state.members(GROUP.sales)).not.toContain(USER.gina);
    expect(state.licensesOf(USER.gina)).toEqual([SKU.sales.skuId]);
    expect(answer.body.warnings.join(' ')).toMatch(/does not free it \(E2\)/);
  });

  it('refuses an environment without a security group unless licenses may go (E2), and one without Dataverse (D3)', async () => {
    const noGroup = await h.call('POST', `environments/${ENV.full}/users/${upn('alice')}/disable`);
    expect(noGroup.status).toBe(409);
    expect(noGroup.body).toMatchObject({ code: 'no-security-group', factId: 'E2' });
    const d3 = await h.call('POST', `environments/${ENV.noDatabase}/users/${upn('alice')}/disable`, { body: { removeLicenses: false } });
    expect(d3.status).toBe(409);
    expect(state.licensesOf(USER.alice)).toEqual([SKU.sales.skuId]);
  });

  it('validates the body', async () => {
    const answer = await h.call('POST', `environments/${ENV.sales}/users/${upn('alice')}/disable`, { body: { removeLicenses: 'true' } });
    expect(answer.status).toBe(400);
    expect(pointers(answer.body)).toEqual(['body #/removeLicenses']);
    expect(state.members(GROUP.sales)).toContain(USER.alice);
  });
});

describe('PUT /api/environments/{env}/users/{user}/access-mode', () => {
  it('refuses non-interactive when 7 are already enabled (T3), and changes nothing', async () => {
    const answer = await h.call('PUT', `environments/${ENV.full}/users/${upn('alice')}/access-mode`, { body: { accessMode: 'non-interactive' } });
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ code: 'non-interactive-cap', factId: 'T3', enabledNonInteractive: 7, cap: 7 });
    expect(state.row(ENV.full, USER.alice)!.accessmode).toBe(0);
  });

  it('sets non-interactive where application users leave room (T2), then removes the license (T3)', async () => {
    const answer = await h.call('PUT', `environments/${ENV.sales}/users/${upn('frank')}/access-mode`, {
      body: { accessMode: 'non-interactive', removeLicenses: true },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ changed: true, previousAccessMode: 'read-write', licensesRemoved: ['DYN365_ENTERPRISE_SALES'] });
    expect(answer.body.systemUser.accessMode).toBe('non-interactive');
    expect(state.row(ENV.sales, USER.frank)!.accessmode).toBe(4);
    expect(state.licensesOf(USER.frank)).toEqual([]);
  });

  it('removes the license of an administrative user only when a service admin (A2)', async () => {
    const refused = await h.call('PUT', `environments/${ENV.sales}/users/${upn('alice')}/access-mode`, {
      body: { accessMode: 'administrative', removeLicenses: true },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.factId).toBe('A2');
    expect(state.row(ENV.sales, USER.alice)!.accessmode).toBe(0);
    const admin = await h.call('PUT', `environments/${ENV.sales}/users/${upn('pat')}/access-mode`, { body: { accessMode: 'administrative', removeLicenses: true } });
    expect(admin.status).toBe(200);
    expect(admin.body.systemUser.accessMode).toBe('administrative');
  });

  it('answers 400 for an unknown mode and 404 for a user without a row', async () => {
    const bad = await h.call('PUT', `environments/${ENV.sales}/users/${upn('alice')}/access-mode`, { body: { accessMode: 'read' } });
    expect(bad.status).toBe(400);
    expect(pointers(bad.body)).toEqual(['body #/accessMode']);
    const missing = await h.call('PUT', `environments/${ENV.sales}/users/${upn('hugo')}/access-mode`, { body: { accessMode: 'read-write' } });
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toMatch(/D1/);
  });
});

describe('POST /api/environments/{env}/users/{user}/sync', () => {
  it('adds the missing row of an entitled user (D1)', async () => {
    const answer = await h.call('POST', `environments/${ENV.permissive}/users/${upn('alice')}/sync`);
    expect(answer.status).toBe(200);
    expect(answer.body.systemUser.entraObjectId).toBe(USER.alice);
    expect(state.row(ENV.permissive, USER.alice)).toBeDefined();
  });

  it('answers 409 when the admin API refuses a user outside the security group', async () => {
    const answer = await h.call('POST', `environments/${ENV.onboarding}/users/${upn('hugo')}/sync`);
    expect(answer.status).toBe(409);
    expect(answer.body.code).toBe('sync-refused');
    expect(state.row(ENV.onboarding, USER.hugo)).toBeUndefined();
  });

  it('takes no body', async () => {
    const answer = await h.call('POST', `environments/${ENV.sales}/users/${upn('alice')}/sync`, { body: { force: true } });
    expect(answer.status).toBe(400);
    expect(pointers(answer.body)).toEqual(['body #/force']);
  });
});

describe('POST /api/environments/{env}/users/{user}/roles', () => {
  it('refuses a role for a disabled user (E5) unless the organization allows it', async () => {
    const refused = await h.call('POST', `environments/${ENV.sales}/users/${upn('bob')}/roles`, { body: { role: 'Salesperson' } });
    expect(refused.status).toBe(409);
    expect(refused.body.factId).toBe('E5');
    expect(state.row(ENV.sales, USER.bob)!.roles).toEqual([]);
    const allowed = await h.call('POST', `environments/${ENV.permissive}/users/${upn('bob')}/roles`, { body: { role: 'salesperson' } });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({ assigned: true, role: { id: ROLE.salesperson(ENV.permissive) } });
    expect(state.row(ENV.permissive, USER.bob)!.roles).toContain(ROLE.salesperson(ENV.permissive));
  });

  it('assigns by id, and a second call changes nothing', async () => {
    const role = ROLE.basic(ENV.sales);
    const first = await h.call('POST', `environments/${ENV.sales}/users/${USER.alice}/roles`, { body: { role } });
    expect(first.status).toBe(200);
    expect(first.body.assigned).toBe(true);
    const again = await h.call('POST', `environments/${ENV.sales}/users/${USER.alice}/roles`, { body: { role } });
    expect(again.body.assigned).toBe(false);
    expect(state.row(ENV.sales, USER.alice)!.roles.filter((r) => r === role)).toHaveLength(1);
  });

  it('answers 404 for an unknown role and 400 for a missing one', async () => {
    expect((await h.call('POST', `environments/${ENV.sales}/users/${upn('alice')}/roles`, { body: { role: 'Astronaut' } })).status).toBe(404);
    const bad = await h.call('POST', `environments/${ENV.sales}/users/${upn('alice')}/roles`, { body: {} });
    expect(bad.status).toBe(400);
    expect(pointers(bad.body)).toEqual(['body #/role']);
  });
});

describe('POST /api/environments/{env}/application-users', () => {
  const applicationId = '5d0f3c1a-7b2e-4c9d-8e6f-1a2b3c4d5e6f';

  it('creates the application user in the root business unit with its roles, once (T2)', async () => {
    const first = await h.call('POST', `environments/${ENV.service}/application-users`, { body: { applicationId, roles: ['Basic User'] } });
    expect(first.status).toBe(201);
    expect(first.body.systemUser).toMatchObject({ applicationId, accessMode: 'non-interactive', businessUnitId: ROOT_BU(ENV.service) });
    const again = await h.call('POST', `environments/${ENV.service}/application-users`, { body: { applicationId, roles: ['Basic User'] } });
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(false);
    const rows = state.rows(ENV.service).filter((r) => r.applicationid === applicationId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.roles).toEqual([ROLE.basic(ENV.service)]);
  });

  it('answers 404 for an unknown role before creating anything, 400 for a bad app id, 409 without Dataverse', async () => {
    const other = '6e1f4d2b-8c3f-4dae-9f70-2b3c4d5e6f70';
    expect((await h.call('POST', `environments/${ENV.service}/application-users`, { body: { applicationId: other, roles: ['Nope'] } })).status).toBe(404);
    expect(state.rows(ENV.service).some((r) => r.applicationid === other)).toBe(false);
    const bad = await h.call('POST', `environments/${ENV.service}/application-users`, { body: { applicationId: 'app', roles: 'Basic User' } });
    expect(bad.status).toBe(400);
    expect(pointers(bad.body)).toEqual(['body #/applicationId', 'body #/roles']);
    expect((await h.call('POST', `environments/${ENV.noDatabase}/application-users`, { body: { applicationId: other } })).status).toBe(409);
  });
});

describe('POST /api/salesforce/{org}/integration-user/activate', () => {
  it('activates the inactive integration user (S1)', async () => {
    expect(state.salesforceUser(SF_ORG, SF_INTEGRATION_USER)!.IsActive).toBe(false);
    const answer = await h.call('POST', `salesforce/${SF_ORG}/integration-user/activate`);
    expect(answer.status).toBe(200);
    expect(answer.body.activated).toEqual([{ id: SF_INTEGRATION_USER, username: 'copilotforsalesintegrationuser@fabrikam.sf' }]);
    expect(state.salesforceUser(SF_ORG, SF_INTEGRATION_USER)!.IsActive).toBe(true);
    const again = await h.call('POST', `salesforce/${SF_ORG}/integration-user/activate`);
    expect(again.body.activated).toEqual([]);
  });

  it('says why when Salesforce cannot activate it: no Salesforce Integration license left (S2)', async () => {
    const answer = await h.call('POST', `salesforce/${SF_ORG_FULL}/integration-user/activate`);
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({ code: 'activation-refused', factId: 'S2' });
    expect(answer.body.detail).toMatch(/contact Microsoft support \(S1\)/);
    expect(state.salesforceUser(SF_ORG_FULL, '0055g00000INTFULAA')!.IsActive).toBe(false);
  });

  it('answers 404 for an org that is not configured and 400 for a malformed id', async () => {
    expect((await h.call('POST', 'salesforce/00D000000000001AAA/integration-user/activate')).status).toBe(404);
    expect((await h.call('POST', 'salesforce/not-an-org/integration-user/activate')).status).toBe(400);
  });
});

describe('cross-cutting', () => {
  it('in read-only mode refuses every mutation with 409 and changes nothing', async () => {
    const readOnly = await h.serverWith({ readOnly: true });
    const before = JSON.stringify(h.sim.exportState());
    const mutations: [string, string, unknown][] = [
      ['POST', 'users', { userPrincipalName: upn('tess'), displayName: 'Tess' }],
      ['POST', `environments/${ENV.sales}/users/${upn('hugo')}/enable`, {}],
      ['POST', `environments/${ENV.sales}/users/${upn('alice')}/disable`, {}],
      ['PUT', `environments/${ENV.sales}/users/${upn('alice')}/access-mode`, { accessMode: 'read-write' }],
      ['POST', `environments/${ENV.sales}/users/${upn('alice')}/sync`, undefined],
      ['POST', `environments/${ENV.sales}/users/${upn('alice')}/roles`, { role: 'Basic User' }],
      ['POST', `environments/${ENV.sales}/application-users`, { applicationId: '7f2a5e3c-9d40-4ebf-a081-3c4d5e6f7081' }],
      ['POST', `salesforce/${SF_ORG}/integration-user/activate`, undefined],
    ];
    for (const [method, path, body] of mutations) {
      const answer = await h.call(method, path, { body, server: readOnly });
      expect(answer.status, path).toBe(409);
      expect(answer.body.code).toBe('read-only');
    }
    expect((await h.call('GET', `environments/${ENV.sales}/users/${USER.alice}/enable-status`, { server: readOnly })).status).toBe(200);
    expect(JSON.stringify(h.sim.exportState())).toBe(before);
  });

  it('with Entra authentication on, trusts the platform principal: 401 without one, 403 without the role', async () => {
    const secured = await h.serverWith({ requireAppRoles: true });
    const principal = (roles: string[]) =>
      Buffer.from(JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'oid', val: 'caller-1' }, ...roles.map((val) => ({ typ: 'roles', val }))] })).toString('base64');
    const path = `environments/${ENV.sales}/users/${upn('alice')}/roles`;
    const body = { role: 'Salesperson' };
    expect((await h.call('POST', path, { body, server: secured })).status).toBe(401);
    const reader = await h.call('POST', path, { body, server: secured, headers: { 'x-ms-client-principal': principal(['Steward.Read']) } });
    expect(reader.status).toBe(403);
    expect(reader.body.requiredRole).toBe('Steward.Manage');
    const manager = await h.call('POST', path, { body, server: secured, headers: { 'x-ms-client-principal': principal(['Steward.Manage']) } });
    expect(manager.status).toBe(200);
    const log = await readOperationLog(h.services.tables, new Date());
    expect(log.some((row) => row.principal === 'caller-1' && row.route === 'environment-users-roles' && row.status === 200)).toBe(true);
  });

  it('requires the function key', async () => {
    const response = await fetch(new URL('users', h.server.apiUrl), { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
  });

  it('keeps an operation log of who did what to which target, with outcome and duration, and no secrets', async () => {
    const log = await readOperationLog(h.services.tables, new Date());
    const create = log.find((row) => row.route === 'users-create' && row.target.userPrincipalName === upn('nora'));
    expect(create).toMatchObject({ principal: 'function-key', method: 'POST', status: 201, outcome: 'succeeded' });
    expect(create!.durationMs).toBeGreaterThanOrEqual(0);
    const cap = log.find((row) => row.route === 'environment-users-access-mode' && row.status === 409 && row.target.env === ENV.full);
    expect(cap).toMatchObject({ outcome: 'refused', factId: 'T3' });
    expect(JSON.stringify(log)).not.toMatch(/password"?\s*:/i);
  });
});

describe('through the Azure Functions HTTP trigger', () => {
  // The trigger builds its services from the app settings, as on Azure: point them at the simulator.
  const trigger = async (
    name: string,
    init: { params: Record<string, string>; body?: string; headers?: Record<string, string> },
    context: InvocationContext = new InvocationContext({ functionName: name }),
  ) => {
    Object.assign(process.env, h.sim.settingsEnv(), { STEWARD_STORAGE_CONNECTION: h.storage.connectionString });
    const route = apiRoutes.find((r) => r.name === name)!;
    const request = new HttpRequest({
      method: route.methods[0],
      url: `https://steward.azurewebsites.net/api/${route.route}`,
      params: init.params,
      headers: { 'content-type': 'application/json', ...init.headers },
      ...(init.body !== undefined ? { body: { string: init.body } } : {}),
    });
    const response = await httpHandler(route)(request, context);
    return { status: response.status, headers: response.headers as Record<string, string>, body: JSON.parse(String(response.body)) };
  };

  it('runs the same route: the role is assigned in the simulator', async () => {
    const answer = await trigger('environment-users-roles', {
      params: { env: ENV.permissive, user: upn('alice') },
      body: JSON.stringify({ role: 'Basic User' }),
    });
    expect(answer.status).toBe(200);
    expect(answer.body.assigned).toBe(true);
    expect(state.row(ENV.permissive, USER.alice)!.roles).toContain(ROLE.basic(ENV.permissive));
  });

  it('answers malformed input with the same 400 problem+json as steward serve', async () => {
    const init = { params: { env: ENV.sales, user: 'nobody' }, body: '{"role": 5, "x": 1}' };
    const viaFunctions = await trigger('environment-users-roles', init);
    const viaServe = await h.call('POST', `environments/${ENV.sales}/users/nobody/roles`, { rawBody: init.body });
    expect(viaFunctions.status).toBe(400);
    expect(viaFunctions.headers['content-type']).toBe(PROBLEM);
    // The same problem, each naming the trace of its own call.
    const { traceId: functionsTrace, ...functionsProblem } = viaFunctions.body;
    const { traceId: serveTrace, ...serveProblem } = viaServe.body;
    expect(functionsProblem).toEqual(serveProblem);
    expect(functionsTrace).toMatch(TRACE_ID);
    expect(serveTrace).toMatch(TRACE_ID);
    expect(functionsTrace).not.toBe(serveTrace);
  });

  it("continues the host's trace: the problem, the operation log row and the invocation's structured logs name it", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const logged: { level: string; args: unknown[] }[] = [];
    const context = new InvocationContext({
      functionName: 'environment-users-roles',
      invocationId: 'c0ffee00-1111-2222-3333-444455556666',
      traceContext: { traceParent: `00-${traceId}-00f067aa0ba902b7-01`, traceState: '', attributes: {} },
      logHandler: (level, ...args) => logged.push({ level, args }),
    });
    const answer = await trigger('environment-users-roles', { params: { env: ENV.sales, user: 'nobody' }, body: '{"role": 5}' }, context);
    expect(answer.status).toBe(400);
    expect(answer.body.traceId).toBe(traceId);
    const rows = await readOperationLog(h.services.tables, new Date());
    expect(rows.find((row) => row.traceId === traceId)).toMatchObject({
      route: 'environment-users-roles',
      status: 400,
      invocationId: 'c0ffee00-1111-2222-3333-444455556666',
    });
    const line = logged.map((l) => l.args[0] as Record<string, unknown>).find((record) => record?.event === 'http.request');
    expect(line).toMatchObject({ route: 'environment-users-roles', status: 400, traceId, invocationId: 'c0ffee00-1111-2222-3333-444455556666' });
  });
});

const TRACE_ID = /^[0-9a-f]{32}$/;
