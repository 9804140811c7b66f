import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { constants, createGunzip, createGzip, gunzip as gunzipCallback, gzip as gzipCallback } from 'node:zlib';
import type { ContainerClient } from '@azure/storage-blob';
import pLimit from 'p-limit';
import type { StorageConnectionSettings } from '../../config/storage.js';
import { StorageConnection } from './connection.js';
import { statusOf, toStorageError } from './errors.js';

/** Claims `list` downloads at once. */
const LIST_DOWNLOADS_IN_FLIGHT = 8;

/** A streamed upload's block size, and how many blocks are in flight at once. */
const STREAM_BLOCK_BYTES = 4 * 1024 * 1024;
const STREAM_BLOCKS_IN_FLIGHT = 2;

const gzip = promisify(gzipCallback);
const LINES_CHUNK_CHARS = 64 * 1024;
const gunzip = promisify(gunzipCallback);

/**
 * Claims are stored gzipped (`Content-Encoding: gzip`): the directory of a 100,000-user tenant is
 * ≈ 45 MB of JSON and ≈ 10 × smaller compressed, and every worker that audits a target reads it.
 * Fastest level: the zlib work runs on libuv's thread pool, beside the event loop.
 */
async function encode(value: unknown): Promise<Buffer> {
  return gzip(JSON.stringify(value), { level: constants.Z_BEST_SPEED });
}

async function decode<T>(buffer: Buffer): Promise<T> {
  // The gzip magic number; a claim written uncompressed (before this format) still reads.
  const text = buffer[0] === 0x1f && buffer[1] === 0x8b ? (await gunzip(buffer)).toString('utf8') : buffer.toString('utf8');
  return JSON.parse(text) as T;
}

/**
 * Claim-check storage for the audit fan-out: queue messages carry ids, the data (the directory
 * snapshot, each environment's summary) lives here as JSON blobs under the run id.
 */
export class ClaimStore {
  private container: ContainerClient;
  private ready: Promise<unknown> | undefined;

  constructor(connection: StorageConnection | StorageConnectionSettings | string, containerName = 'audit-claims') {
    this.container = StorageConnection.open(connection).containerClient(containerName);
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
    const body = await encode(value);
    try {
      await this.container.getBlockBlobClient(`${runId}/${name}.json`).upload(body, body.length, {
        blobHTTPHeaders: { blobContentType: 'application/json', blobContentEncoding: 'gzip' },
      });
    } catch (cause) {
      throw toStorageError(`putClaim ${name}`, cause, runId);
    }
  }

  async get<T>(runId: string, name: string): Promise<T | null> {
    await this.ensure();
    try {
      const buffer = await this.container.getBlockBlobClient(`${runId}/${name}.json`).downloadToBuffer();
      return await decode<T>(buffer);
    } catch (cause) {
      if (statusOf(cause) === 404) return null;
      throw toStorageError(`getClaim ${name}`, cause, runId);
    }
  }

  /**
   * A blob of JSON lines, one value a line, gzipped as it is written: the value is never one
   * string in memory (the delta state of 100,000 users is ≈ 90 MB of JSON; SPEC §9).
   */
  async putLines(runId: string, name: string, values: Iterable<unknown>): Promise<void> {
    await this.ensure();
    // Lines go to gzip in chunks of about 64 KiB: one write per line would be one zlib call on the
    // thread pool per line (250,000 for an environment's state), which costs more than compressing.
    function* lines(): Generator<string> {
      let chunk: string[] = [];
      let size = 0;
      for (const value of values) {
        const line = `${JSON.stringify(value)}\n`;
        chunk.push(line);
        size += line.length;
        if (size >= LINES_CHUNK_CHARS) {
          yield chunk.join('');
          chunk = [];
          size = 0;
        }
      }
      if (chunk.length > 0) yield chunk.join('');
    }
    const body = Readable.from(lines()).pipe(createGzip({ level: constants.Z_BEST_SPEED }));
    try {
      await this.container.getBlockBlobClient(`${runId}/${name}.jsonl`).uploadStream(body, STREAM_BLOCK_BYTES, STREAM_BLOCKS_IN_FLIGHT, {
        blobHTTPHeaders: { blobContentType: 'application/jsonl', blobContentEncoding: 'gzip' },
      });
    } catch (cause) {
      throw toStorageError(`putClaim ${name}`, cause, runId);
    }
  }

  /** The values of a `putLines` blob, parsed one line at a time as they arrive; null when there is none. */
  async getLines(runId: string, name: string): Promise<AsyncIterable<unknown> | null> {
    await this.ensure();
    let body: NodeJS.ReadableStream | undefined;
    try {
      body = (await this.container.getBlockBlobClient(`${runId}/${name}.jsonl`).download()).readableStreamBody;
    } catch (cause) {
      if (statusOf(cause) === 404) return null;
      throw toStorageError(`getClaim ${name}`, cause, runId);
    }
    if (!body) return null;
    const download = body as Readable;
    const lines = createInterface({ input: download.pipe(createGunzip()), crlfDelay: Infinity });
    return (async function* values() {
      try {
        for await (const line of lines) if (line) yield JSON.parse(line) as unknown;
      } catch (cause) {
        throw toStorageError(`getClaim ${name}`, cause, runId);
      } finally {
        // A reader that stops early (the first line only) lets the download go.
        lines.close();
        download.destroy();
      }
    })();
  }

  async list<T>(runId: string, prefix: string): Promise<T[]> {
    await this.ensure();
    const names: string[] = [];
    for await (const blob of this.container.listBlobsFlat({ prefix: `${runId}/${prefix}` })) names.push(blob.name);
    // One download per claim (an audit has one per environment): a few at a time, in listing order.
    const limit = pLimit(LIST_DOWNLOADS_IN_FLIGHT);
    return Promise.all(names.map((name) => limit(async () => decode<T>(await this.container.getBlockBlobClient(name).downloadToBuffer()))));
  }
}
