import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV, SKU, operationsTenant, upn } from '../fixtures/operations-tenant.js';
import { FUNCTION_KEY, startHarness, type Harness } from './support/harness.js';
import { tenantState } from './support/state.js';

/**
 * R4 and R5 (SPEC §8) over HTTP, as a Power Automate joiner flow meets them: Entra ID answers 404
 * for a new user for a while (replication), and the admin API answers `userNotLicensed` until a
 * new licence has propagated. The lags are short; the test awaits Steward's own waiting and polls
 * the Location it is given, as Power Automate does.
 */

let h: Harness;
let state: ReturnType<typeof tenantState>;

beforeAll(async () => {
  const fixture = operationsTenant();
  fixture.faults = { graph: { replicationLagMs: 300 }, powerplatform: { licensePropagationMs: 500 } };
  h = await startHarness(fixture);
  state = tenantState(h.sim);
});
afterAll(() => h?.stop());

/** Polls a Location until it answers something else than 202 (at most `max` times). */
async function pollUntilDone(location: string, max = 400): Promise<{ status: number; body: any; polls: number }> {
  for (let polls = 1; polls <= max; polls++) {
    const answer = await fetch(location, { headers: { 'x-functions-key': FUNCTION_KEY } });
    const body = await answer.json();
    if (answer.status !== 202) return { status: answer.status, body, polls };
    expect(answer.headers.get('location')).toBe(location);
  }
  throw new Error(`still 202 after ${max} polls`);
}

describe('R4, R5: a joiner in a tenant that replicates and propagates', () => {
  it('create answers 201 with nothing incomplete; enable answers 202, its Location reaches 200; diagnose says eligible', async () => {
    const name = upn('nora');
    const created = await h.call('POST', 'users', {
      body: { userPrincipalName: name, displayName: 'Nora Ricci', usageLocation: 'IT', licenses: [SKU.sales.skuPartNumber], environments: [ENV.onboarding] },
    });
    expect(created.status).toBe(201);
    expect(created.body.incomplete).toEqual([]);
    const id: string = created.body.user.id;
    expect(state.licensesOf(id)).toEqual([SKU.sales.skuId]);
    // Graph answered 404 at least once meanwhile, and Steward tried again.
    expect(h.sim.requests.some((r) => r.host === 'graph' && r.status === 404 && r.url.includes(id))).toBe(true);

    const enable = await h.call('POST', `environments/${ENV.onboarding}/users/${name}/enable`);
    expect(enable.status).toBe(202);
    expect(enable.body.state).toBe('pending');
    const location = enable.headers.get('location')!;
    expect(location).toContain('licenseDeadline=');
    const done = await pollUntilDone(location);
    expect(done.status).toBe(200);
    expect(done.body.state).toBe('enabled');
    expect(done.body.systemUser).toMatchObject({ isDisabled: false, accessMode: 'read-write' });
    expect(h.sim.requests.some((r) => r.host === 'powerplatform' && r.status === 400 && r.url.includes('/addUser'))).toBe(true);

    const diagnosis = await h.call('GET', `environments/${ENV.onboarding}/users/${name}/diagnosis`);
    expect(diagnosis.status).toBe(200);
    expect(diagnosis.body.verdict).toBe('eligible');
  });

  it('enable of a user with no licence answers 409 naming D4.2 at once', async () => {
    const name = upn('olga');
    const created = await h.call('POST', 'users', { body: { userPrincipalName: name, displayName: 'Olga Neri', licenses: [], environments: [ENV.onboarding] } });
    expect(created.status).toBe(201);
    const enable = await h.call('POST', `environments/${ENV.onboarding}/users/${name}/enable`);
    expect(enable.status).toBe(409);
    expect(enable.body.factId).toBe('D4.2');
    expect(enable.body.detail).toContain('userNotLicensed');
  });

  it('past the deadline the poll answers 409 naming D4.2 and the wait it gave', async () => {
    const server = await h.serverWith({ licensePropagationWaitSeconds: 0 });
    const name = upn('pia');
    const created = await h.call('POST', 'users', {
      server,
      body: { userPrincipalName: name, displayName: 'Pia Sala', usageLocation: 'IT', licenses: [SKU.sales.skuPartNumber], environments: [ENV.onboarding] },
    });
    expect(created.status).toBe(201);
    const enable = await h.call('POST', `environments/${ENV.onboarding}/users/${name}/enable`, { server });
    expect(enable.status).toBe(202);
    const done = await pollUntilDone(enable.headers.get('location')!);
    expect(done.status).toBe(409);
    expect(done.body.factId).toBe('D4.2');
    expect(done.body.detail).toContain('did not take effect in the admin API within 0 s');
  });

  it('create that gives up waiting says which steps are incomplete, and why', async () => {
    const server = await h.serverWith({ replicationWaitSeconds: 0 });
    const created = await h.call('POST', 'users', {
      server,
      body: { userPrincipalName: upn('quinn'), displayName: 'Quinn Ferro', usageLocation: 'IT', licenses: [SKU.sales.skuPartNumber], environments: [ENV.onboarding] },
    });
    expect(created.status).toBe(201);
    expect(created.body.incomplete.map((s: { step: string; target: string }) => [s.step, s.target])).toEqual([
      ['license', SKU.sales.skuPartNumber],
      ['security-group', ENV.onboarding],
    ]);
    for (const step of created.body.incomplete) expect(step.detail).toContain('Entra ID had not replicated the new user after 0 s (STEWARD_REPLICATION_WAIT_S)');
  });
});
