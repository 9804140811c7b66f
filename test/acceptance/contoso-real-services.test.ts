import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type EmbeddedStorage } from '../../simulator/storage/azurite.js';
import { FUNCTION_KEY, startHarness, type Harness } from '../e2e/support/harness.js';
import { startTestServices } from '../support/services.js';

/** SPEC §8 on contoso: the scenarios of issue 10, with the lags the issue gives. */

const shared = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'fixtures');
const contoso = JSON.parse(readFileSync(join(shared, 'contoso.json'), 'utf8')) as {
  environments: { id: string; displayName: string; securityGroupId: string | null }[];
  salesforceOrgs: { id: string }[];
  tenant: { defaultDomain: string };
};
const SALES_PROD = contoso.environments.find((e) => e.displayName === 'Sales Prod')!.id;

describe('contoso with replication lag and licence propagation', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ ...contoso, faults: { graph: { replicationLagMs: 3000 }, powerplatform: { licensePropagationMs: 4000 } } } as never);
  });
  afterAll(() => h?.stop());

  it('create 201 with no incomplete step; enable 202, its Location reaches 200 with the row enabled; diagnose says eligible', async () => {
    const upn = `nuovo.utente@${contoso.tenant.defaultDomain}`;
    const created = await h.call('POST', 'users', {
      body: { userPrincipalName: upn, displayName: 'Nuovo Utente', usageLocation: 'IT', licenses: ['DYN365_ENTERPRISE_SALES'], environments: [SALES_PROD] },
    });
    expect(created.status).toBe(201);
    expect(created.body.incomplete).toEqual([]);

    const enable = await h.call('POST', `environments/${SALES_PROD}/users/${upn}/enable`);
    expect(enable.status).toBe(202);
    const location = enable.headers.get('location')!;
    let answer: Response | undefined;
    for (let polls = 0; polls < 5000; polls++) {
      answer = await fetch(location, { headers: { 'x-functions-key': FUNCTION_KEY } });
      if (answer.status !== 202) break;
      await answer.arrayBuffer();
    }
    expect(answer!.status).toBe(200);
    const done = (await answer!.json()) as { state: string; systemUser: { isDisabled: boolean } };
    expect(done.state).toBe('enabled');
    expect(done.systemUser.isDisabled).toBe(false);

    const diagnosis = await h.call('GET', `environments/${SALES_PROD}/users/${upn}/diagnosis`);
    expect(diagnosis.body.verdict).toBe('eligible');
  });
});

describe('contoso with a Salesforce org out of daily API requests', () => {
  let storage: EmbeddedStorage;
  beforeAll(async () => {
    storage = await startAzurite();
  });
  afterAll(() => storage?.stop());

  it('the audit is partial, the org target-failed citing REQUEST_LIMIT_EXCEEDED, no slower than a healthy audit plus a few seconds', async () => {
    const org = contoso.salesforceOrgs[0]!.id;
    const t = await startTestServices(contoso, { storage });
    try {
      let started = Date.now();
      const healthy = await t.audit.run('cli', { concurrency: 4 });
      const healthySeconds = (Date.now() - started) / 1000;
      expect(healthy.run.status).toBe('succeeded');

      t.sim.setFault(org, { dailyLimitExceeded: true });
      started = Date.now();
      const limited = await t.audit.run('cli', { concurrency: 4 });
      const limitedSeconds = (Date.now() - started) / 1000;
      expect(limited.run.status).toBe('partial');
      expect(limited.run.targets.find((x) => x.id === org)).toMatchObject({
        status: 'failed',
        failure: { service: 'salesforce', status: 403, code: 'REQUEST_LIMIT_EXCEEDED' },
      });
      const failed = limited.findings.find((f) => f.checkId === 'audit.target-failed' && f.targetId === org);
      expect(failed?.details.cause).toMatchObject({ code: 'REQUEST_LIMIT_EXCEEDED' });
      expect(limitedSeconds).toBeLessThan(healthySeconds + 3);
    } finally {
      await t.stop();
    }
  });
});
