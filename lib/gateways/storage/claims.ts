import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { statusOf, toStorageError } from './errors.js';

/** Claims `list` downloads at once. */
const LIST_DOWNLOADS_IN_FLIGHT = 8;

/**
 * Claim-check storage for the audit fan-out: queue messages carry ids, the data (the directory
 * snapshot, each environment's summary) lives here as JSON blobs under the run id.
 */
export class ClaimStore {
  private container: ContainerClient;
  private ready: Promise<unknown> | undefined;

  constructor(connectionString: string, containerName = 'audit-claims') {
    this.container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(containerName);
  }

  private async ensure(): Promise<void> {
    this.ready ??= this.container.createIfNotExists().catch((cause: unknown) => {
      this.ready = undefined;
      throw toStorageError('createContainer audit-claims', cause);
    });
    await this.ready;
  }

  async put(runId: string, name: string, value: unknown): Promise<void> {
    await this.ensure();
    const body = JSON.stringify(value);
    try {
      await this.container.getBlockBlobClient(`${runId}/${name}.json`).upload(body, Buffer.byteLength(body), {
        blobHTTPHeaders: { blobContentType: 'application/json' },
      });
    } catch (cause) {
      throw toStorageError(`putClaim ${name}`, cause, runId);
    }
  }

  async get<T>(runId: string, name: string): Promise<T | null> {
    await this.ensure();
    try {
      const buffer = await this.container.getBlockBlobClient(`${runId}/${name}.json`).downloadToBuffer();
      return JSON.parse(buffer.toString('utf8')) as T;
    } catch (cause) {
      if (statusOf(cause) === 404) return null;
      throw toStorageError(`getClaim ${name}`, cause, runId);
    }
  }

  async list<T>(runId: string, prefix: string): Promise<T[]> {
    await this.ensure();
    const names: string[] = [];
    for await (const blob of this.container.listBlobsFlat({ prefix: `${runId}/${prefix}` })) names.push(blob.name);
    // One download per claim (an audit has one per environment): a few at a time, in listing order.
    const values: T[] = new Array(names.length);
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const i = next++;
        const buffer = await this.container.getBlockBlobClient(names[i]!).downloadToBuffer();
        values[i] = JSON.parse(buffer.toString('utf8')) as T;
      }
    };
    await Promise.all(Array.from({ length: Math.min(LIST_DOWNLOADS_IN_FLIGHT, names.length) }, worker));
    return values;
  }
}
