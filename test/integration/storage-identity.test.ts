import { randomUUID } from 'node:crypto';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, createSteward, openStorage } from '../../lib/composition.js';
import { ConfigurationError, loadSettings, type Settings } from '../../lib/config/settings.js';
import { AUDIT_TARGET_QUEUE, StorageAuditQueue } from '../../lib/gateways/storage/audit-queue.js';
import { ClaimStore } from '../../lib/gateways/storage/claims.js';
import { trustCertificateAuthorities } from '../../lib/gateways/http/tls.js';
import { demoTenant } from '../../fixtures/demo-tenant.js';
import { startSimulator, type Simulator } from '../../simulator/index.js';
import { startAzurite, type EmbeddedStorage } from '../../simulator/storage/azurite.js';

/**
 * Identity-based storage (the deployment has `allowSharedKeyAccess: false`): Azurite over HTTPS
 * with `--oauth basic` checks every bearer token's issuer, audience and lifetime, as Azure Storage
 * does; the tokens come from the simulated Entra endpoint, asked for by Steward's own credential.
 * The settings carry no account key at all, so every call that succeeds was signed with a token.
 */

let sim: Simulator;
let azurite: EmbeddedStorage;
let settings: Settings;

beforeAll(async () => {
  sim = await startSimulator(demoTenant());
  azurite = await startAzurite({ oauth: sim.tls });
  settings = loadSettings({
    ...sim.settingsEnv(),
    STEWARD_STORAGE__tableServiceUri: azurite.tableUrl,
    STEWARD_STORAGE__blobServiceUri: azurite.blobUrl,
    AzureWebJobsStorage__queueServiceUri: azurite.queueUrl,
  });
}, 60_000);

afterAll(async () => {
  await sim?.stop();
  await azurite?.stop();
});

/** A credential that hands out one fixed (unsigned) token. */
function fixedToken(claims: Record<string, unknown>): TokenCredential {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const token = `${part({ typ: 'JWT', alg: 'RS256' })}.${part(claims)}.c2ln`;
  return { getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }) };
}

describe('identity-based storage against Azurite with OAuth', () => {
  it('reads the Functions convention into service URIs and an identity, with no key anywhere', () => {
    expect(settings.storageConnection).toEqual({
      kind: 'identity',
      serviceUris: { table: azurite.tableUrl, blob: azurite.blobUrl },
      credential: 'steward',
    });
    expect(settings.hostStorageConnection).toMatchObject({ kind: 'identity', serviceUris: { queue: azurite.queueUrl } });
    expect(JSON.stringify(settings.storageConnection)).not.toMatch(/AccountKey/i);
  });

  it('runs the whole audit with its findings, runs and claims in token-authorised storage', async () => {
    const { audit, services } = await createSteward(settings, { dispatch: 'in-process' });
    const report = await audit.run('cli', { concurrency: 4 });
    expect(report.run.status).toBe('succeeded');
    expect(report.findings.length).toBeGreaterThan(0);
    expect((await audit.latestRun()).runId).toBe(report.run.runId);
    expect((await audit.listFindings({ status: 'open' })).length).toBe(report.findings.length);

    const claims = new ClaimStore(services.tables.connection);
    await claims.put('run-claims', 'directory', { users: ['a'] });
    expect(await claims.get('run-claims', 'directory')).toEqual({ users: ['a'] });
  });

  it('sends the audit fan-out to the host storage queue with a token', async () => {
    const services = await createServices(settings);
    const queue = new StorageAuditQueue(services.hostStorage!);
    await queue.sendTargets([{ runId: 'r1', targetId: 'env-1', kind: 'environment' }]);
    const client = services.hostStorage!.queueClient(AUDIT_TARGET_QUEUE);
    const { receivedMessageItems } = await client.receiveMessages();
    expect(JSON.parse(Buffer.from(receivedMessageItems[0]!.messageText, 'base64').toString('utf8'))).toEqual({ runId: 'r1', targetId: 'env-1', kind: 'environment' });
  });

  it('is refused a token Azure Storage would refuse (a v2.0 issuer, another audience)', async () => {
    const trusted = trustCertificateAuthorities(settings.extraCaCertificates);
    const now = Math.floor(Date.now() / 1000);
    const lifetime = { iat: now, nbf: now, exp: now + 3600 };
    for (const claims of [
      { ...lifetime, iss: `https://login.microsoftonline.com/${sim.entra.tenantId}/v2.0`, aud: 'https://storage.azure.com' },
      { ...lifetime, iss: `https://sts.windows.net/${sim.entra.tenantId}/`, aud: 'https://graph.microsoft.com' },
    ]) {
      const connection = openStorage(settings.storageConnection, fixedToken(claims), trusted);
      const error = await connection
        .tableClient(`t${randomUUID().replaceAll('-', '')}`)
        .createTable()
        .then(() => null, (cause: unknown) => cause as { statusCode?: number });
      expect(error?.statusCode).toBe(403);
    }
  });

  it('names the missing or malformed identity settings', () => {
    const base = { STEWARD_TENANT_ID: 't' };
    const problems = (env: Record<string, string>) => {
      try {
        loadSettings({ ...base, ...env });
        return [];
      } catch (error) {
        return (error as ConfigurationError).problems.map((p) => p.setting);
      }
    };
    expect(problems({ STEWARD_STORAGE__tableServiceUri: 'https://a.table.core.windows.net' })).toContain('STEWARD_STORAGE__blobServiceUri');
    expect(problems({ AzureWebJobsStorage__accountName: 'a', AzureWebJobsStorage__blobServiceUri: 'http://insecure' })).toEqual([
      'AzureWebJobsStorage__blobServiceUri',
    ]);
    expect(problems({ AzureWebJobsStorage__accountName: 'a', AzureWebJobsStorage__credential: 'password' })).toEqual(['AzureWebJobsStorage__credential']);
    const fromAccount = loadSettings({ ...base, AzureWebJobsStorage__accountName: 'stcontoso', AzureWebJobsStorage__credential: 'managedidentity', AzureWebJobsStorage__clientId: 'c1' });
    expect(fromAccount.storageConnection).toEqual({
      kind: 'identity',
      serviceUris: {
        table: 'https://stcontoso.table.core.windows.net',
        queue: 'https://stcontoso.queue.core.windows.net',
        blob: 'https://stcontoso.blob.core.windows.net',
      },
      credential: 'managedidentity',
      clientId: 'c1',
    });
  });
});
