import type { TableClient, TableServiceClient, TableServiceClientOptions } from '@azure/data-tables';
import type { StorageConnectionSettings } from '../../config/storage.js';
import { StorageConnection } from './connection.js';
import { statusOf, toStorageError } from './errors.js';

/**
 * Table clients of one storage connection (a connection string, or service URIs and a token:
 * `StorageConnection`), each table created on first use.
 */
export class Tables {
  private readonly clients = new Map<string, TableClient>();
  private readonly created = new Map<string, Promise<void>>();

  /**
   * @param clientOptions extra SDK client options (pipeline policies, an `httpClient`, retry options)
   *   for every client made here; tests use it to see the requests that go out.
   */
  readonly connection: StorageConnection;

  constructor(
    connection: StorageConnection | StorageConnectionSettings | string,
    private readonly clientOptions: TableServiceClientOptions = {},
  ) {
    this.connection = StorageConnection.open(connection);
  }

  /** The client of a table, created on first use. */
  async table(name: string): Promise<TableClient> {
    let client = this.clients.get(name);
    if (!client) {
      client = this.connection.tableClient(name, this.clientOptions);
      this.clients.set(name, client);
    }
    let creating = this.created.get(name);
    if (!creating) {
      creating = client.createTable().catch((cause: unknown) => {
        if (statusOf(cause) === 409) return; // already there
        this.created.delete(name);
        throw toStorageError(`createTable ${name}`, cause);
      });
      this.created.set(name, creating);
    }
    await creating;
    return client;
  }

  service(): TableServiceClient {
    return this.connection.tableServiceClient(this.clientOptions);
  }
}
