import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type EmbeddedStorage } from '../../simulator/storage/azurite.js';
import { startTestServices } from '../support/services.js';

const shared = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'fixtures');
const contoso = JSON.parse(readFileSync(join(shared, 'contoso.json'), 'utf8')) as Record<string, unknown>;
const expected = JSON.parse(readFileSync(join(shared, 'contoso.expected.json'), 'utf8')) as {
  findings: { checkId: string; targetId: string; subjectId: string; severity: string }[];
};
const key = (f: { checkId: string; targetId: string; subjectId: string; severity: string }) => `${f.checkId} ${f.targetId} ${f.subjectId} ${f.severity}`;
const SALES_PROD = '05c07aab-d04c-4912-b11f-c5db1977e888';

let storage: EmbeddedStorage;
beforeAll(async () => {
  storage = await startAzurite();
});
afterAll(async () => {
  await storage.stop();
});

describe('contoso under faults', () => {
  it('30% throttling and 5% 5xx on every service: the same findings', async () => {
    const noisy = { throttleRate: 0.3, errorRate: 0.05, retryAfterSeconds: 0 };
    const fixture = { ...contoso, faults: { seed: 11, graph: noisy, powerplatform: noisy, dataverse: noisy, salesforce: noisy } };
    const t = await startTestServices(fixture, { storage });
    try {
      const report = await t.audit.run('cli', { concurrency: 4 });
      expect(report.run.status).toBe('succeeded');
      expect(report.findings.map(key).sort()).toEqual(expected.findings.map(key).sort());
      const statuses = t.sim.requests.map((r) => r.status);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
      expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    } finally {
      await t.stop();
    }
  });

  it('an environment that is down: target-failed, run partial, its earlier findings kept open, the others complete', async () => {
    const own = await startAzurite();
    // Two retries and two attempts keep the down environment's failure quick (the defaults wait longer).
    const t = await startTestServices(contoso, { storage: own, env: { STEWARD_HTTP_RETRIES: '2' } });
    try {
      const first = await t.audit.run('cli', { concurrency: 4 });
      const prodBefore = first.findings.filter((f) => f.targetId === SALES_PROD).map(key).sort();
      expect(prodBefore.length).toBeGreaterThan(5);

      t.sim.setFault(SALES_PROD, { down: true });
      const second = await t.audit.run('cli', { concurrency: 4, attempts: 2 });
      expect(second.run.status).toBe('partial');
      expect(second.run.targets.find((x) => x.id === SALES_PROD)?.status).toBe('failed');
      expect(second.run.targets.filter((x) => x.id !== SALES_PROD && x.status === 'failed')).toEqual([]);
      const failed = second.findings.find((f) => f.checkId === 'audit.target-failed');
      expect(failed).toMatchObject({ targetId: SALES_PROD, subjectId: 'collection', severity: 'critical', runState: 'new' });
      // Nothing of the failed target was resolved, and the cross-environment check resolved nothing.
      expect(second.resolved).toEqual([]);
      const prodAfter = second.findings.filter((f) => f.targetId === SALES_PROD && f.checkId !== 'audit.target-failed').map(key).sort();
      expect(prodAfter).toEqual(prodBefore);
      expect(second.findings.find((f) => f.checkId === 'dataverse.disabled-user-licensed')?.runState).toBe('open');
    } finally {
      await t.stop();
      await own.stop();
    }
  });
});
