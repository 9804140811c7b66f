import { TableClient, TableServiceClient, type TableServiceClientOptions } from '@azure/data-tables';
import { statusOf, toStorageError } from './errors.js';

/**
 * Table clients from one connection string. Azurite (development, tests) speaks plain http on
 * loopback; the SDK refuses that unless told, so it is allowed for loopback endpoints only.
 */
export class Tables {
  private readonly clients = new Map<string, TableClient>();
  private readonly created = new Map<string, Promise<void>>();

  /**
   * @param clientOptions extra SDK client options (pipeline policies, an `httpClient`, retry options)
   *   for every client made here; tests use it to see the requests that go out.
   */
  constructor(
    private readonly connectionString: string,
    private readonly clientOptions: TableServiceClientOptions = {},
  ) {}

  private get allowInsecure(): boolean {
    return /Endpoint=http:\/\/(127\.0\.0\.1|localhost)[:/]/i.test(this.connectionString) || /UseDevelopmentStorage=true/i.test(this.connectionString);
  }

  /** The client of a table, created on first use. */
  async table(name: string): Promise<TableClient> {
    let client = this.clients.get(name);
    if (!client) {
      client = TableClient.fromConnectionString(this.connectionString, name, { ...this.clientOptions, allowInsecureConnection: this.allowInsecure });
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
    return TableServiceClient.fromConnectionString(this.connectionString, { ...this.clientOptions, allowInsecureConnection: this.allowInsecure });
  }
}
