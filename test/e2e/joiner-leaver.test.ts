import { afterAll, beforeAll, expect, it } from 'vitest';
import type { EnvironmentGateway } from '../../lib/gateways/powerplatform/port.js';
import { readOperationLog } from '../../lib/http/operation-log.js';
import { ENV, GROUP, ROLE, SKU, operationsTenant, upn } from '../fixtures/operations-tenant.js';
import { startHarness, type Harness } from './support/harness.js';
import { tenantState } from './support/state.js';

/**
 * One person's whole life in the tenant, as a Power Automate joiner / mover / leaver flow drives
 * it: create with a license and an environment → enable (202, poll, 200) → assign a role → set
 * non-interactive → disable with license removal. After each step the simulated tenant is checked.
 */

let h: Harness;
let state: ReturnType<typeof tenantState>;
/** Forced syncs the admin API has accepted but not applied yet. */
const backgroundSyncs: (() => Promise<void>)[] = [];
let server: Harness['server'];

beforeAll(async () => {
  h = await startHarness(operationsTenant());
  state = tenantState(h.sim);
  // The real admin API applies a forced sync in the background and the row follows within minutes
  // (U2, D1); the simulator applies it at once. Queuing the call (it still goes to the simulator,
  // later) shows the 202 → poll → 200 exchange Power Automate goes through.
  const real = h.services.environments;
  const environments: EnvironmentGateway = {
    listEnvironments: () => real.listEnvironments(),
    getEnvironment: (id) => real.getEnvironment(id),
    addUser: async (environmentId, objectId) => {
      backgroundSyncs.push(() => real.addUser(environmentId, objectId));
    },
  };
  server = await h.serverWith({}, { environments });
});
afterAll(() => h?.stop());

it('walks a user from joiner to leaver, and the tenant matches every answer', async () => {
  const walt = upn('walt');
  const salesConsumed = state.consumed(SKU.sales.skuId)!;

  // 1. Joiner: account, license, the environment's security group.
  const created = await h.call('POST', 'users', {
    server,
    headers: { 'Idempotency-Key': 'joiner-walt' },
    body: { userPrincipalName: walt, displayName: 'Walt Bassi', usageLocation: 'IT', licenses: [SKU.sales.skuId], environments: [ENV.onboarding] },
  });
  expect(created.status).toBe(201);
  const id: string = created.body.user.id;
  expect(state.user(id)).toMatchObject({ userPrincipalName: walt, usageLocation: 'IT' });
  expect(state.licensesOf(id)).toEqual([SKU.sales.skuId]);
  expect(state.consumed(SKU.sales.skuId)).toBe(salesConsumed + 1);
  expect(state.members(GROUP.onboarding)).toEqual([id]);
  expect(state.row(ENV.onboarding, id)).toBeUndefined();

  // 2. Enable: the sync is accepted, the row is not there yet → 202, Location, Retry-After.
  const enable = await h.call('POST', `environments/${ENV.onboarding}/users/${walt}/enable`, { server });
  expect(enable.status).toBe(202);
  expect(enable.body.state).toBe('pending');
  expect(enable.headers.get('retry-after')).toBe('10');
  const location = enable.headers.get('location')!;
  expect(location).toBe(`${server.origin}/api/environments/${ENV.onboarding}/users/${id}/enable-status`);
  expect(backgroundSyncs).toHaveLength(1);

  const polled = await fetch(location, { headers: { 'x-functions-key': 'e2e-function-key' } });
  expect(polled.status).toBe(202);
  expect(polled.headers.get('location')).toBe(location);

  // The background sync lands; the next poll answers 200 with the enabled row.
  await backgroundSyncs.shift()!();
  const done = await fetch(location, { headers: { 'x-functions-key': 'e2e-function-key' } });
  expect(done.status).toBe(200);
  const doneBody = (await done.json()) as { state: string; systemUser: { id: string; isDisabled: boolean; accessMode: string } };
  expect(doneBody.state).toBe('enabled');
  expect(doneBody.systemUser).toMatchObject({ isDisabled: false, accessMode: 'read-write' });
  expect(state.row(ENV.onboarding, id)).toMatchObject({ isdisabled: false, accessmode: 0, systemuserid: doneBody.systemUser.id });

  // 3. A security role (U3), by name.
  const role = await h.call('POST', `environments/${ENV.onboarding}/users/${id}/roles`, { server, body: { role: 'Salesperson' } });
  expect(role.status).toBe(200);
  expect(role.body.assigned).toBe(true);
  expect(state.row(ENV.onboarding, id)!.roles).toEqual([ROLE.salesperson(ENV.onboarding)]);

  // 4. Mover: non-interactive; the 7th such user of the environment (the application user does not count, T2, T3).
  const mode = await h.call('PUT', `environments/${ENV.onboarding}/users/${walt}/access-mode`, { server, body: { accessMode: 'non-interactive' } });
  expect(mode.status).toBe(200);
  expect(mode.body.systemUser.accessMode).toBe('non-interactive');
  expect(state.row(ENV.onboarding, id)!.accessmode).toBe(4);
  const enabledNonInteractive = state.rows(ENV.onboarding).filter((r) => r.accessmode === 4 && !r.applicationid && !r.isdisabled);
  expect(enabledNonInteractive).toHaveLength(7);

  // 5. Leaver: out of the security group, licenses freed (E2).
  const disabled = await h.call('POST', `environments/${ENV.onboarding}/users/${walt}/disable`, { server, body: { removeLicenses: true } });
  expect(disabled.status).toBe(200);
  expect(disabled.body).toMatchObject({ removedFromSecurityGroup: true, licensesRemoved: ['DYN365_ENTERPRISE_SALES'], stillEnabledIn: [] });
  expect(state.members(GROUP.onboarding)).toEqual([]);
  expect(state.licensesOf(id)).toEqual([]);
  expect(state.consumed(SKU.sales.skuId)).toBe(salesConsumed);
  // The row turns disabled with the next background sync; the answer says so.
  expect(disabled.body.state).toBe(state.row(ENV.onboarding, id)!.isdisabled ? 'disabled' : 'disable-pending-sync');

  // The operation log tells the same story, step by step.
  const log = (await readOperationLog(h.services.tables, new Date())).filter(
    (row) => row.target.user === walt || row.target.user === id || row.target.userPrincipalName === walt,
  );
  expect(log.map((row) => `${row.route} ${row.status}`)).toEqual([
    'users-create 201',
    'environment-users-enable 202',
    'environment-users-enable-status 202',
    'environment-users-enable-status 200',
    'environment-users-roles 200',
    'environment-users-access-mode 200',
    'environment-users-disable 200',
  ]);
});
