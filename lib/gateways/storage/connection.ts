import type https from 'node:https';
import { TableClient, TableServiceClient, type TableServiceClientOptions } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueClient, type StoragePipelineOptions } from '@azure/storage-queue';
import { describeStorage, type StorageConnectionSettings, type StorageService } from '../../config/storage.js';

/** How an identity-based connection signs in and which certificate authorities it trusts. */
export interface StorageConnectionOptions {
  /** Required for an identity-based connection: a token for `https://storage.azure.com/.default`. */
  credential?: TokenCredential;
  /** An agent trusting `STEWARD_EXTRA_CA_CERTS` (a TLS-inspecting proxy, Azurite over HTTPS in tests). */
  agent?: https.Agent;
}

/**
 * One storage account as Steward reaches it: every Table, Queue and Blob client is made here, from
 * a connection string (Azurite, development) or from service URIs and a `TokenCredential` (Azure,
 * with shared keys off). The stores (Tables, ClaimStore, StorageAuditQueue) only ask it for clients.
 */
export class StorageConnection {
  /**
   * Blob and Queue clients pass unknown pipeline options on to the core pipeline, whose `agent`
   * option sends every request through this agent (its typings only lack the field).
   */
  private readonly pipelineOptions: StoragePipelineOptions;

  private constructor(
    readonly settings: StorageConnectionSettings,
    private readonly credential: TokenCredential | undefined,
    private agent: https.Agent | undefined,
  ) {
    if (settings.kind === 'identity' && !credential) {
      throw new Error(`storage: an identity-based connection (${describeStorage(settings)}) needs a credential`);
    }
    // Plain http endpoints (Azurite in development) cannot go through an https agent.
    if (settings.kind === 'connection-string' && /(Endpoint=http:|UseDevelopmentStorage=true|Protocol=http;)/i.test(settings.connectionString)) this.agent = undefined;
    this.pipelineOptions = (this.agent ? { agent: this.agent } : {}) as StoragePipelineOptions;
  }

  /** A connection from its settings, or a bare connection string (tests, Azurite). */
  static open(source: StorageConnection | StorageConnectionSettings | string, options: StorageConnectionOptions = {}): StorageConnection {
    if (source instanceof StorageConnection) return source;
    const settings: StorageConnectionSettings = typeof source === 'string' ? { kind: 'connection-string', connectionString: source } : source;
    return new StorageConnection(settings, options.credential, options.agent);
  }

  /** Endpoints and who signs in; never a key. */
  describe(): string {
    return describeStorage(this.settings);
  }

  /** Azurite speaks plain http on loopback; the SDK refuses that unless told (connection strings only). */
  private get allowInsecure(): boolean {
    if (this.settings.kind !== 'connection-string') return false;
    const text = this.settings.connectionString;
    return /Endpoint=http:\/\/(127\.0\.0\.1|localhost)[:/]/i.test(text) || /UseDevelopmentStorage=true/i.test(text);
  }

  private uri(service: StorageService): string {
    const uri = this.settings.kind === 'identity' ? this.settings.serviceUris[service] : undefined;
    if (!uri) throw new Error(`storage: no ${service} service URI in ${this.describe()}`);
    return uri;
  }

  private tableOptions(options: TableServiceClientOptions): TableServiceClientOptions {
    return { ...(this.agent ? { agent: this.agent } : {}), ...options, allowInsecureConnection: this.allowInsecure };
  }

  tableClient(name: string, options: TableServiceClientOptions = {}): TableClient {
    if (this.settings.kind === 'connection-string') return TableClient.fromConnectionString(this.settings.connectionString, name, this.tableOptions(options));
    return new TableClient(this.uri('table'), name, this.credential!, this.tableOptions(options));
  }

  tableServiceClient(options: TableServiceClientOptions = {}): TableServiceClient {
    if (this.settings.kind === 'connection-string') return TableServiceClient.fromConnectionString(this.settings.connectionString, this.tableOptions(options));
    return new TableServiceClient(this.uri('table'), this.credential!, this.tableOptions(options));
  }

  queueClient(name: string): QueueClient {
    const options = this.pipelineOptions;
    if (this.settings.kind === 'connection-string') return new QueueClient(this.settings.connectionString, name, options);
    return new QueueClient(`${this.uri('queue')}/${name}`, this.credential!, options);
  }

  containerClient(name: string): ContainerClient {
    const options = this.pipelineOptions;
    const service =
      this.settings.kind === 'connection-string'
        ? BlobServiceClient.fromConnectionString(this.settings.connectionString, options)
        : new BlobServiceClient(this.uri('blob'), this.credential!, options);
    return service.getContainerClient(name);
  }
}
