import type { TokenCredential } from '@azure/identity';
import pLimit, { type LimitFunction } from 'p-limit';
import { JsonClient, type JsonResponse } from '../http/json-client.js';
import { checkDeltaLinkOrigin } from '../http/delta.js';
import type { ODataCollection } from '../http/odata.js';
import { DEFAULT_CONCURRENCY, type TransportOptions } from '../http/options.js';
import { linkedPages, type Pages } from '../http/pages.js';
import { ServiceError } from '../http/service-error.js';
import { tokenProvider } from '../identity/client.js';
import type { DataverseTarget } from './port.js';

/**
 * The transport of the Dataverse gateway: the Web API v9.2 (`{instance}/api/data/v9.2/`) of one
 * environment at a time.
 *
 * - a token per instance (`{instanceUrl}/.default`) from the shared credential;
 * - a bounded number of calls in flight per environment (p-limit), retries on 429/503/504 that
 *   honour `Retry-After`, a timeout per attempt (JsonClient);
 * - collections read in pages of 5,000 (`Prefer: odata.maxpagesize=5000`) following every top-level
 *   `@odata.nextLink`; never the per-row `<navigation>@odata.nextLink` of a single-level expand (R1);
 * - failures as `ServiceError` of service `dataverse`, with the environment id as target.
 */

export const DATAVERSE_API_PATH = '/api/data/v9.2/';
export const DATAVERSE_PAGE_SIZE = 5000;

export const ODATA_HEADERS = { 'OData-MaxVersion': '4.0', 'OData-Version': '4.0' } as const;
export const COLLECTION_HEADERS = { ...ODATA_HEADERS, Prefer: `odata.maxpagesize=${DATAVERSE_PAGE_SIZE}` } as const;
/**
 * SPEC §9, change tracking: `Prefer: odata.track-changes` with the page size, the same on the first
 * request and on the delta link (use-change-tracking-synchronize-data-external-systems).
 */
export const TRACK_CHANGES_HEADERS = { ...ODATA_HEADERS, Prefer: `odata.track-changes,odata.maxpagesize=${DATAVERSE_PAGE_SIZE}`, 'Cache-Control': 'no-cache' } as const;
/** Expanded collection-valued navigation properties can come from a cache unless asked not to. */
export const EXPANDED_COLLECTION_HEADERS = { ...COLLECTION_HEADERS, 'If-None-Match': 'null' } as const;

/** `concurrency` bounds the calls in flight per environment. */
export interface DataverseClientOptions extends TransportOptions {
  credential: TokenCredential;
}

export interface DataverseRequest {
  operation: string;
  /** Relative to the environment's API root, or absolute (paging links). */
  url: string;
  method?: 'GET' | 'POST' | 'PATCH';
  headers: Record<string, string>;
  body?: unknown;
}

interface EnvironmentClient {
  instanceUrl: string;
  apiRoot: string;
  client: JsonClient;
}

export class DataverseClient {
  private readonly clients = new Map<string, EnvironmentClient>();
  private readonly limits = new Map<string, LimitFunction>();

  constructor(private readonly options: DataverseClientOptions) {}

  /** `{instance}/api/data/v9.2/` of the target, for `@odata.id` references. */
  apiRoot(target: DataverseTarget, operation: string): string {
    return this.environmentClient(target, operation).apiRoot;
  }

  send<T>(target: DataverseTarget, request: DataverseRequest): Promise<JsonResponse<T>> {
    const { client } = this.environmentClient(target, request.operation);
    return client.send<T>({ ...request, target: target.id });
  }

  /** Every page of a collection, following `@odata.nextLink` to the end. */
  pages<T>(target: DataverseTarget, operation: string, url: string, headers: Record<string, string>): Pages<T> {
    return linkedPages(url, async (link) => {
      const response = await this.send<ODataCollection<T>>(target, { operation, url: link, headers });
      return { items: this.collectionOf(target, operation, response), next: response.body['@odata.nextLink'] };
    });
  }

  /** A change-tracking round: every page to the one with `@odata.deltaLink`. */
  async *changePages<T>(target: DataverseTarget, operation: string, url: string): AsyncIterable<{ items: T[]; deltaLink?: string }> {
    checkDeltaLinkOrigin('dataverse', operation, url, this.apiRoot(target, operation), target.id);
    for (let link: string | undefined = url; link; ) {
      const response: JsonResponse<ODataCollection<T> & { '@odata.deltaLink'?: string }> = await this.send(target, { operation, url: link, headers: TRACK_CHANGES_HEADERS });
      const items = this.collectionOf(target, operation, response);
      link = response.body['@odata.nextLink'];
      yield { items, deltaLink: response.body['@odata.deltaLink'] };
    }
  }

  /** The items of an answer that must be an OData collection. */
  collectionOf<T>(target: DataverseTarget, operation: string, response: JsonResponse<ODataCollection<T>>): T[] {
    const value = response.body?.value;
    if (!Array.isArray(value)) throw this.invalidResponse(target, operation, response.status, 'the answer is not an OData collection');
    return value;
  }

  invalidResponse(target: DataverseTarget, operation: string, status: number, detail: string): ServiceError {
    return new ServiceError({ service: 'dataverse', operation, target: target.id, status, code: 'InvalidResponse' }, detail);
  }

  private environmentClient(target: DataverseTarget, operation: string): EnvironmentClient {
    if (!target.instanceUrl) {
      throw new ServiceError(
        { service: 'dataverse', operation, target: target.id, code: 'NoDataverseDatabase' },
        'the environment has no Dataverse database (D3)',
      );
    }
    const instanceUrl = target.instanceUrl.replace(/\/+$/, '');
    const key = target.id.toLowerCase();
    const known = this.clients.get(key);
    if (known && known.instanceUrl === instanceUrl) return known;
    let limit = this.limits.get(key);
    if (!limit) {
      limit = pLimit(this.options.concurrency ?? DEFAULT_CONCURRENCY);
      this.limits.set(key, limit);
    }
    const apiRoot = `${instanceUrl}${DATAVERSE_API_PATH}`;
    const entry: EnvironmentClient = {
      instanceUrl,
      apiRoot,
      client: new JsonClient({
        service: 'dataverse',
        baseUrl: apiRoot,
        getToken: tokenProvider(this.options.credential, `${instanceUrl}/.default`),
        retry: this.options.retry,
        timeoutMs: this.options.timeoutMs,
        limit,
      }),
    };
    this.clients.set(key, entry);
    return entry;
  }
}
