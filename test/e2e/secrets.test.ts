import { setLogLevel } from '@azure/logger';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSteward, type Steward } from '../../lib/composition.js';
import { ConfigurationError, loadSettings } from '../../lib/config/settings.js';
import { startLocalServer, type LocalServer } from '../../lib/http/local-server.js';
import { demoTenant } from '../../fixtures/demo-tenant.js';
import { startSimulator, type Simulator } from '../../simulator/index.js';
import { startAzurite, type EmbeddedStorage } from '../../simulator/storage/azurite.js';

/**
 * Each Salesforce org's secret in a setting of its own (on Azure a whole-value Key Vault
 * reference), named from `STEWARD_SALESFORCE_ORGS`. With SDK logging at its most verbose, neither
 * the secret that works nor a wrong one (a recognisable canary) may show in a log line, a problem
 * answer, the operation log, an idempotency record or any other stored row.
 */

const TAILSPIN = '00D8d000001TSPNEAA';
const WINGTIP = '00D8d000002WNGTEAA';
const CANARY = 'CANARY-wingtip-secret-5f1c9e';
const KEY = 'secrets-test-key';

let sim: Simulator;
let azurite: EmbeddedStorage;
let app: Steward;
let server: LocalServer;
let working: string;
const logged: string[] = [];

beforeAll(async () => {
  sim = await startSimulator(demoTenant());
  azurite = await startAzurite();
  working = sim.salesforceClient(TAILSPIN).clientSecret;
  const orgs = (JSON.parse(sim.settingsEnv().STEWARD_SALESFORCE_ORGS!) as Record<string, string>[]).map(({ clientSecret: _, ...org }) => ({
    ...org,
    clientSecretSetting: org.id === TAILSPIN ? 'STEWARD_SALESFORCE_SECRET_TAILSPIN' : 'STEWARD_SALESFORCE_SECRET_WINGTIP',
  }));
  const settings = loadSettings({
    ...sim.settingsEnv(),
    STEWARD_STORAGE_CONNECTION: azurite.connectionString,
    STEWARD_SALESFORCE_ORGS: JSON.stringify(orgs),
    STEWARD_SALESFORCE_SECRET_TAILSPIN: working,
    STEWARD_SALESFORCE_SECRET_WINGTIP: CANARY,
  });
  expect(settings.salesforceOrgs.find((o) => o.id === TAILSPIN)?.clientSecret).toBe(working);
  app = await createSteward(settings, { dispatch: 'in-process' });
  server = await startLocalServer({ app, functionKey: KEY });
  // Everything a process can print: the console, stdout/stderr (the Azure SDK's logger), at verbose.
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
  }
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown) => {
      logged.push(String(chunk));
      return true;
    }) as typeof stream.write);
  }
  setLogLevel('verbose');
}, 60_000);

afterAll(async () => {
  setLogLevel('error');
  vi.restoreAllMocks();
  await server?.close();
  await sim?.stop();
  await azurite?.stop();
});

async function call(method: string, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(new URL(path, server.apiUrl), { method, headers: { 'x-functions-key': KEY, ...headers } });
  return { status: response.status, text: await response.text() };
}

async function everyStoredRow(): Promise<string> {
  const rows: unknown[] = [];
  for await (const table of app.services.tables.service().listTables()) {
    const client = await app.services.tables.table(table.name!);
    for await (const entity of client.listEntities()) rows.push(entity);
  }
  return JSON.stringify(rows);
}

describe('Salesforce secrets from settings of their own', () => {
  it('never shows a secret, working or wrong, in answers, logs or storage', async () => {
    const refused = await call('GET', `salesforce/${WINGTIP}/s2s-readiness`);
    expect(refused.status).toBeGreaterThanOrEqual(400);
    const failedMutation = await call('POST', `salesforce/${WINGTIP}/integration-user/activate`, { 'idempotency-key': 'k-wingtip-1' });
    expect(failedMutation.status).toBeGreaterThanOrEqual(400);
    const ready = await call('GET', `salesforce/${TAILSPIN}/s2s-readiness`);
    expect(ready.status).toBe(200);
    // Signed in with the working secret; refused for the org's own reason (its licenses, S2), and stored under its key.
    const activated = await call('POST', `salesforce/${TAILSPIN}/integration-user/activate`, { 'idempotency-key': 'k-tailspin-1' });
    expect(activated.status).not.toBe(502);
    const report = await app.audit.run('cli', { concurrency: 4 });
    expect(report.run.targets.find((t) => t.id === WINGTIP)?.status).toBe('failed');

    const answers = [refused.text, failedMutation.text, ready.text, activated.text].join('\n');
    const stored = await everyStoredRow();
    // The stores and the logs were looked at: the operation log names the org, the SDK logged its calls.
    expect(stored).toContain(TAILSPIN);
    expect(logged.join('\n')).toMatch(/azure:/);
    for (const secret of [CANARY, working]) {
      expect(answers).not.toContain(secret);
      expect(logged.join('\n')).not.toContain(secret);
      expect(stored).not.toContain(secret);
      expect(JSON.stringify(report)).not.toContain(secret);
    }
  });

  it('refuses a Key Vault reference inside the org list, and one the platform could not resolve', () => {
    const org = { id: TAILSPIN, name: 'Tailspin', loginUrl: 'https://tailspin.my.salesforce.com', clientId: 'c' };
    const problems = (env: Record<string, string>) => {
      try {
        loadSettings({ STEWARD_TENANT_ID: 't', STEWARD_STORAGE_CONNECTION: 'UseDevelopmentStorage=true', ...env });
        return [];
      } catch (error) {
        return (error as ConfigurationError).problems;
      }
    };
    const inline = problems({ STEWARD_SALESFORCE_ORGS: JSON.stringify([{ ...org, clientSecret: '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/sf)' }]) });
    expect(inline.map((p) => p.setting)).toEqual(['STEWARD_SALESFORCE_ORGS.0.clientSecret']);
    const unresolved = problems({
      STEWARD_SALESFORCE_ORGS: JSON.stringify([{ ...org, clientSecretSetting: 'STEWARD_SALESFORCE_SECRET_TAILSPIN' }]),
      STEWARD_SALESFORCE_SECRET_TAILSPIN: '@Microsoft.KeyVault(VaultName=kv;SecretName=sf)',
    });
    expect(unresolved).toEqual([{ setting: 'STEWARD_SALESFORCE_SECRET_TAILSPIN', expected: expect.stringContaining('Key Vault Secrets User') }]);
    const missing = problems({ STEWARD_SALESFORCE_ORGS: JSON.stringify([{ ...org, clientSecretSetting: 'STEWARD_SALESFORCE_SECRET_TAILSPIN' }]) });
    expect(missing.map((p) => p.setting)).toEqual(['STEWARD_SALESFORCE_SECRET_TAILSPIN']);
    const otherSetting = problems({ STEWARD_SALESFORCE_ORGS: JSON.stringify([{ ...org, clientSecretSetting: 'STEWARD_CLIENT_SECRET' }]) });
    expect(otherSetting.map((p) => p.setting)).toEqual(['STEWARD_SALESFORCE_ORGS.0.clientSecretSetting']);
  });
});
