import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TARGET_FAILED_CHECK } from '../../lib/domain/check-catalogue.js';
import { demoTenant } from '../../fixtures/demo-tenant.js';
import { startHarness, type Harness } from './support/harness.js';

/**
 * R6 (SPEC §8): a Salesforce org whose daily API request limit is spent answers every call with
 * 403 `REQUEST_LIMIT_EXCEEDED`. Steward does not retry it: the audit records the org as failed
 * with that cause and is not slowed down, the HTTP API answers 503 with `Retry-After` naming the
 * daily limit, and readiness says `unknown` with the reason.
 */

const fixture = demoTenant();
const ORG = fixture.salesforceOrgs[0]!.id;
let h: Harness;

beforeAll(async () => {
  h = await startHarness(fixture);
});

afterAll(async () => {
  await h?.stop();
});

const limitAnswers = () => h.sim.requests.filter((r) => r.host === `salesforce:${ORG}` && r.status === 403).length;

describe('R6: a spent Salesforce daily API limit', () => {
  it('the audit is partial, the org failed with REQUEST_LIMIT_EXCEEDED, and it takes no longer than a healthy one', async () => {
    let started = Date.now();
    const healthy = await h.audit.run('cli');
    const healthySeconds = (Date.now() - started) / 1000;
    expect(healthy.run.targets.find((t) => t.id === ORG)?.status).toBe('succeeded');

    h.sim.setFault(ORG, { dailyLimitExceeded: true });
    started = Date.now();
    const limited = await h.audit.run('cli');
    const limitedSeconds = (Date.now() - started) / 1000;

    expect(limited.run.status).toBe('partial');
    const org = limited.run.targets.find((t) => t.id === ORG)!;
    expect(org.status).toBe('failed');
    expect(org.failure).toEqual({ service: 'salesforce', status: 403, code: 'REQUEST_LIMIT_EXCEEDED' });
    expect(org.error).toContain('TotalRequests Limit exceeded.');
    const finding = limited.findings.find((f) => f.checkId === TARGET_FAILED_CHECK && f.targetId === ORG);
    expect(finding?.details.cause).toEqual({ service: 'salesforce', status: 403, code: 'REQUEST_LIMIT_EXCEEDED' });
    // Every other target audited as it was.
    const others = (report: typeof healthy) => report.run.targets.filter((t) => t.id !== ORG).map((t) => [t.id, t.status]);
    expect(others(limited)).toEqual(others(healthy));
    // Not retried: each failing call was sent once (the org's snapshot reads run side by side).
    expect(limitAnswers()).toBeLessThanOrEqual(8);
    expect(limitedSeconds).toBeLessThan(healthySeconds + 3);
  });

  it('the HTTP API answers 503 with Retry-After and a message naming the daily limit', async () => {
    const before = limitAnswers();
    const answer = await h.call('POST', `/salesforce/${ORG}/integration-user/activate`, { body: {} });
    expect(answer.status).toBe(503);
    expect(answer.contentType).toContain('application/problem+json');
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(answer.body.detail).toContain('daily API request limit');
    expect(answer.body).toMatchObject({ service: 'salesforce', upstreamStatus: 403, upstreamCode: 'REQUEST_LIMIT_EXCEEDED' });
    expect(limitAnswers() - before).toBeLessThanOrEqual(8);
  });

  it('readiness reports every check unknown, with the reason', async () => {
    const answer = await h.call('GET', `/salesforce/${ORG}/s2s-readiness`);
    expect(answer.status).toBe(200);
    expect(answer.body.org.id).toBe(ORG);
    expect(answer.body.checks.length).toBeGreaterThan(0);
    for (const check of answer.body.checks) {
      expect(check.status).toBe('unknown');
      expect(check.message).toContain('daily API request limit (REQUEST_LIMIT_EXCEEDED');
    }
    h.sim.setFault(ORG, undefined);
    const healthy = await h.call('GET', `/salesforce/${ORG}/s2s-readiness`);
    expect(healthy.body.checks.some((c: { status: string }) => c.status !== 'unknown')).toBe(true);
  });
});
