import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClaimStore } from '../../lib/gateways/storage/claims.js';
import { startAzurite, type EmbeddedStorage } from '../../simulator/storage/azurite.js';

let azurite: EmbeddedStorage;
let claims: ClaimStore;
const container = () => BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('audit-claims');

beforeAll(async () => {
  azurite = await startAzurite();
  claims = new ClaimStore(azurite.connectionString);
});

afterAll(async () => {
  await azurite?.stop();
});

describe('claim-check store', () => {
  it('stores a claim gzipped and reads it back as it was put', async () => {
    const runId = `run-${randomUUID()}`;
    const directory = { users: Array.from({ length: 5000 }, (_, i) => ({ id: randomUUID(), upn: `user${i}@contoso.com`, accountEnabled: i % 7 !== 0 })) };
    await claims.put(runId, 'directory', directory);
    expect(await claims.get(runId, 'directory')).toEqual(directory);

    const blob = container().getBlockBlobClient(`${runId}/directory.json`);
    const properties = await blob.getProperties();
    expect(properties.contentEncoding).toBe('gzip');
    expect(properties.contentType).toBe('application/json');
    const stored = await blob.downloadToBuffer();
    expect(stored.length).toBeLessThan(JSON.stringify(directory).length / 3);
    expect(JSON.parse(gunzipSync(stored).toString('utf8'))).toEqual(directory);
  });

  it('lists the claims under a prefix, reads an uncompressed claim, and answers null for a missing one', async () => {
    const runId = `run-${randomUUID()}`;
    await claims.put(runId, 'summaries/env-a', { environmentId: 'env-a', enabled: ['x'], disabled: [] });
    await claims.put(runId, 'summaries/env-b', { environmentId: 'env-b', enabled: [], disabled: ['x'] });
    await claims.put(runId, 'environments', []);
    const plain = JSON.stringify({ environmentId: 'env-c', enabled: [], disabled: [] });
    await container().getBlockBlobClient(`${runId}/summaries/env-c.json`).upload(plain, plain.length);

    const summaries = await claims.list<{ environmentId: string }>(runId, 'summaries/');
    expect(summaries.map((s) => s.environmentId).sort()).toEqual(['env-a', 'env-b', 'env-c']);
    expect(await claims.get(runId, 'missing')).toBeNull();
    expect(await claims.list(`run-${randomUUID()}`, 'summaries/')).toEqual([]);
  });
});
