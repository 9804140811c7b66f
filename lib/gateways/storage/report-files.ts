import type { ContainerClient } from '@azure/storage-blob';
import type { StorageConnectionSettings } from '../../config/storage.js';
import { StorageConnection } from './connection.js';
import { statusOf, toStorageError } from './errors.js';

/** The files of a run's report (issue 13): the HTML page and the findings as CSV. */
export type ReportFileName = 'report.html' | 'findings.csv';

const CONTENT_TYPES: Record<ReportFileName, string> = {
  'report.html': 'text/html; charset=utf-8',
  'findings.csv': 'text/csv; charset=utf-8',
};

/** The port the report use case sees: a run's report files, written once when the run finishes. */
export interface ReportFiles {
  put(runId: string, name: ReportFileName, body: string): Promise<void>;
  /** Null when the run has no such file (not finished, or finished before reports were kept). */
  get(runId: string, name: ReportFileName): Promise<string | null>;
}

/**
 * Report files in Blob Storage, `audit-reports/<runId>/<name>`, stored as they are served (with
 * their content type), so a blob opened from the portal or Storage Explorer is the report itself.
 * Every failure is a `ServiceError` with service `storage`.
 */
export class BlobReportFiles implements ReportFiles {
  private readonly container: ContainerClient;
  private ready: Promise<unknown> | undefined;

  constructor(connection: StorageConnection | StorageConnectionSettings | string, containerName = 'audit-reports') {
    this.container = StorageConnection.open(connection).containerClient(containerName);
  }

  private async ensure(): Promise<void> {
    this.ready ??= this.container.createIfNotExists().catch((cause: unknown) => {
      this.ready = undefined;
      throw toStorageError('createContainer audit-reports', cause);
    });
    await this.ready;
  }

  async put(runId: string, name: ReportFileName, body: string): Promise<void> {
    await this.ensure();
    const bytes = Buffer.from(body, 'utf8');
    try {
      await this.container.getBlockBlobClient(`${runId}/${name}`).upload(bytes, bytes.length, {
        blobHTTPHeaders: { blobContentType: CONTENT_TYPES[name] },
      });
    } catch (cause) {
      throw toStorageError(`putReport ${name}`, cause, runId);
    }
  }

  async get(runId: string, name: ReportFileName): Promise<string | null> {
    await this.ensure();
    try {
      return (await this.container.getBlockBlobClient(`${runId}/${name}`).downloadToBuffer()).toString('utf8');
    } catch (cause) {
      if (statusOf(cause) === 404) return null;
      throw toStorageError(`getReport ${name}`, cause, runId);
    }
  }
}
