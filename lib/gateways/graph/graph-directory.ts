import type { TokenCredential } from '@azure/identity';
import {
  AuthenticationHandler,
  Client,
  GraphError,
  HTTPMessageHandler,
  TelemetryHandler,
  type Context,
  type Middleware,
} from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import type { SubscribedSku as GraphSubscribedSku } from '@microsoft/microsoft-graph-types';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Settings } from '../../config/settings.js';
import {
  ADMIN_ROLE_TEMPLATE_IDS,
  type AdminRole,
  type AdminRoleMembers,
  type DirectoryUser,
  type GroupMember,
  type SecurityGroup,
  type SubscribedSku,
} from '../../domain/model.js';
import { readStandardError } from '../http/json-client.js';
import { odataString, pathSegment } from '../http/odata.js';
import { DEFAULT_RETRY_POLICY, RETRYABLE_STATUSES, RetryableError, parseRetryAfter, withRetry, type RetryPolicy } from '../http/retry.js';
import { ServiceError } from '../http/service-error.js';
import type { DirectoryGateway, NewDirectoryUser, UserAccessFacts } from './directory.js';
import {
  USER_SELECT,
  adminRoleOf,
  memberKind,
  StringPool,
  toDirectoryUser,
  toGroupMember,
  toSubscribedSku,
  type BatchRequestItem,
  type BatchResponseBody,
  type BatchResponseItem,
  type WireCollection,
  type WireDirectoryObject,
  type WireUser,
} from './dto.js';

/** The token audience of Microsoft Graph (application permissions: `/.default`). */
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
/** Graph's largest page for directory collections. */
export const GRAPH_PAGE_SIZE = 999;
/** Graph refuses a JSON batch of more than 20 requests. */
export const GRAPH_BATCH_LIMIT = 20;
/** `@odata.id` of a directory object in `$ref` writes, as Graph documents it. */
const DIRECTORY_OBJECTS = 'https://graph.microsoft.com/v1.0/directoryObjects/';

/** Errors `@azure/identity` raises when it cannot get a token (they reach us wrapped in a GraphError). */
const IDENTITY_ERRORS = new Set(['AuthenticationError', 'AggregateAuthenticationError', 'CredentialUnavailableError', 'AuthenticationRequiredError']);

export interface GraphDirectoryOptions {
  /** `https://graph.microsoft.com` (or a national cloud, or the simulator). */
  baseUrl: string;
  credential: TokenCredential;
  scope?: string;
  retry?: RetryPolicy;
  /** Requests in flight at once, for this gateway. */
  concurrency?: number;
  /** Per attempt. */
  timeoutMs?: number;
}

const userSelect = USER_SELECT.join(',');
const MEMBER_SELECT = 'id,displayName';

/** `/users/{key}`: a key starting with `$` must use the `('…')` form (Graph reserves `$` segments). */
function userPath(idOrUpn: string): string {
  return idOrUpn.startsWith('$') ? `/users('${encodeURIComponent(idOrUpn.replace(/'/g, "''"))}')` : `/users/${pathSegment(idOrUpn)}`;
}

/** A query string whose values are percent-encoded (the Graph client passes the query on as given). */
function query(params: Record<string, string | number | undefined>): string {
  const parts = Object.entries(params)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${encodeURIComponent(String(value))}`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

function header(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : headers[key];
}

const isOk = (status: number) => status >= 200 && status < 300;

/**
 * The Graph client's last middleware before the network: one timeout per attempt and retries of
 * 429/503/504 and dropped connections, honouring `Retry-After` (the shared `withRetry` policy, so
 * every gateway retries alike). When the retries run out, the last answer goes back up the chain and
 * the client turns it into a `GraphError` carrying Graph's status, code and headers.
 */
class RetryAndTimeoutHandler implements Middleware {
  private next: Middleware | undefined;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly timeoutMs: number,
  ) {}

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: Context): Promise<void> {
    const next = this.next;
    if (!next) throw new Error('RetryAndTimeoutHandler must not be the last middleware');
    let lastAnswer: Response | undefined;
    try {
      await withRetry(async () => {
        lastAnswer = undefined;
        context.options = { ...context.options, signal: AbortSignal.timeout(this.timeoutMs) };
        try {
          await next.execute(context);
        } catch (cause) {
          const timedOut = cause instanceof DOMException && (cause.name === 'TimeoutError' || cause.name === 'AbortError');
          const error = new Error(timedOut ? `no answer in ${this.timeoutMs} ms` : String((cause as Error)?.cause ?? cause), { cause });
          // The Graph client reports a thrown error's name as the GraphError's code.
          error.name = timedOut ? 'TimeoutError' : 'NetworkError';
          throw new RetryableError(new ServiceError({ service: 'graph', operation: 'fetch', status: timedOut ? 504 : undefined, code: error.name, cause: error }), undefined);
        }
        const response = context.response;
        if (response && RETRYABLE_STATUSES.has(response.status)) {
          // Keep the body: if this was the last try, the client reads Graph's error from it.
          const text = await response.text();
          lastAnswer = new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
          context.response = lastAnswer;
          throw new RetryableError(
            new ServiceError({ service: 'graph', operation: 'fetch', status: response.status }),
            parseRetryAfter(response.headers.get('retry-after')),
          );
        }
      }, this.policy);
    } catch (error) {
      if (lastAnswer) {
        context.response = lastAnswer;
        return;
      }
      const cause = error instanceof ServiceError ? error.cause : error;
      throw cause instanceof Error ? cause : error;
    }
  }
}

/** Microsoft Entra ID through Microsoft Graph v1.0 and the official Graph client. */
export class GraphDirectoryGateway implements DirectoryGateway {
  private readonly client: Client;
  private readonly limit: LimitFunction;
  /** The lane of the `/users` chain (see the constructor). */
  private readonly usersLane: LimitFunction;
  private readonly retry: RetryPolicy;
  private readonly scope: string;

  constructor(options: GraphDirectoryOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.scope = options.scope ?? GRAPH_SCOPE;
    // The `/users` pages form a sequential chain, the longest read of an audit: it has a lane of
    // its own, so that it never waits behind the group and role reads issued beside it; the other
    // calls share the rest. In all, at most `concurrency` requests are in flight.
    const concurrency = Math.max(1, options.concurrency ?? 8);
    this.limit = pLimit(Math.max(1, concurrency - 1));
    this.usersLane = concurrency > 1 ? pLimit(1) : this.limit;
    const baseUrl = options.baseUrl.replace(/\/+$/, '');
    const auth = new TokenCredentialAuthenticationProvider(options.credential, { scopes: [this.scope] });
    const chain: Middleware[] = [
      new AuthenticationHandler(auth),
      new TelemetryHandler(),
      new RetryAndTimeoutHandler(this.retry, options.timeoutMs ?? 30_000),
      new HTTPMessageHandler(),
    ];
    for (let i = 0; i < chain.length - 1; i++) chain[i]!.setNext?.(chain[i + 1]!);
    this.client = Client.initWithMiddleware({
      baseUrl,
      defaultVersion: 'v1.0',
      middleware: chain,
      // The client sends the token only to hosts it knows: Graph's own, and these.
      customHosts: new Set([new URL(baseUrl).hostname]),
    });
  }

  // ── reads ──────────────────────────────────────────────────────────────────────────────────

  async *listUsers(): AsyncIterable<DirectoryUser> {
    // The pages form a chain (each link is in the page before): the next page is requested as soon
    // as its link is known, so converting and consuming a page overlaps the next round trip.
    const fetchPage = (url: string): Promise<WireCollection<WireUser>> => {
      const page: Promise<WireCollection<WireUser>> = this.call('listUsers', () => this.client.api(url).get(), undefined, this.usersLane);
      // Handled here so that a failure while the consumer is busy, or after it stopped early, is
      // not an unhandled rejection; awaiting `page` below still throws it.
      page.catch(() => undefined);
      return page;
    };
    const pool = new StringPool();
    let pending: Promise<WireCollection<WireUser>> | undefined = fetchPage(`/users${query({ $select: userSelect, $top: GRAPH_PAGE_SIZE })}`);
    while (pending) {
      const page: WireCollection<WireUser> = await pending;
      const next = page['@odata.nextLink'];
      pending = next ? fetchPage(next) : undefined;
      for (const user of page.value ?? []) yield toDirectoryUser(user, pool);
    }
  }

  async getUser(idOrUpn: string): Promise<DirectoryUser | null> {
    try {
      const user: WireUser = await this.call('getUser', () => this.client.api(`${userPath(idOrUpn)}${query({ $select: userSelect })}`).get(), idOrUpn);
      return toDirectoryUser(user);
    } catch (error) {
      if (error instanceof ServiceError && error.status === 404) return null;
      throw error;
    }
  }

  async findUserByUpn(userPrincipalName: string): Promise<DirectoryUser | null> {
    const filter = `userPrincipalName eq ${odataString(userPrincipalName)}`;
    const page: WireCollection<WireUser> = await this.call(
      'findUserByUpn',
      () => this.client.api(`/users${query({ $filter: filter, $select: userSelect })}`).get(),
      userPrincipalName,
    );
    const user = page.value?.[0];
    return user ? toDirectoryUser(user) : null;
  }

  async listSubscribedSkus(): Promise<SubscribedSku[]> {
    const skus = await this.collect<GraphSubscribedSku>('listSubscribedSkus', '/subscribedSkus');
    return skus.map(toSubscribedSku);
  }

  async listAdminRoleMembers(): Promise<AdminRoleMembers> {
    const roles = Object.keys(ADMIN_ROLE_TEMPLATE_IDS) as AdminRole[];
    const responses = await this.batch(
      'listAdminRoleMembers',
      roles.map((role) => ({
        id: role,
        method: 'GET',
        url: `/directoryRoles(roleTemplateId=${odataString(ADMIN_ROLE_TEMPLATE_IDS[role])})/members${query({ $select: 'id', $top: GRAPH_PAGE_SIZE })}`,
      })),
    );
    const result = {} as AdminRoleMembers;
    await Promise.all(
      roles.map(async (role) => {
        const response = responses.get(role)!;
        // A role nobody was ever assigned is not activated in the tenant: Graph answers 404.
        const members = response.status === 404 ? [] : await this.itemCollection<WireDirectoryObject>('listAdminRoleMembers', response);
        result[role] = new Set(members.filter((m) => memberKind(m) === 'user').map((m) => m.id ?? ''));
      }),
    );
    return result;
  }

  async getSecurityGroups(groupIds: readonly string[]): Promise<Map<string, SecurityGroup>> {
    const ids = [...new Set(groupIds)];
    const items: BatchRequestItem[] = ids.flatMap((id, i) => [
      { id: `g${i}`, method: 'GET', url: `/groups/${pathSegment(id)}${query({ $select: 'id,displayName' })}` },
      { id: `m${i}`, method: 'GET', url: `/groups/${pathSegment(id)}/members${query({ $select: MEMBER_SELECT, $top: GRAPH_PAGE_SIZE })}` },
      { id: `o${i}`, method: 'GET', url: `/groups/${pathSegment(id)}/owners${query({ $select: 'id', $top: GRAPH_PAGE_SIZE })}` },
    ]);
    const responses = await this.batch('getSecurityGroups', items);
    const groups = new Map<string, SecurityGroup>();
    await Promise.all(
      ids.map(async (id, i) => {
        const group = responses.get(`g${i}`)!;
        if (group.status === 404) return; // unknown ids are absent
        if (!isOk(group.status)) throw this.itemError('getSecurityGroups', group, id);
        const members = await this.itemCollection<WireDirectoryObject>('getSecurityGroups', responses.get(`m${i}`)!, id);
        const owners = await this.itemCollection<WireDirectoryObject>('getSecurityGroups', responses.get(`o${i}`)!, id);
        const body = group.body as { id?: string; displayName?: string | null };
        groups.set(id, {
          id: body.id ?? id,
          displayName: body.displayName ?? '',
          members: members.map(toGroupMember),
          ownerIds: owners.map((o) => o.id ?? '').filter((o) => o !== ''),
        });
      }),
    );
    return groups;
  }

  async listGroupMembers(groupId: string): Promise<GroupMember[]> {
    const members = await this.collect<WireDirectoryObject>(
      'listGroupMembers',
      `/groups/${pathSegment(groupId)}/members${query({ $select: MEMBER_SELECT, $top: GRAPH_PAGE_SIZE })}`,
      groupId,
    );
    return members.map(toGroupMember);
  }

  /**
   * Everything diagnose needs about one user, in one `$batch`: the user, direct and transitive
   * memberships (groups and directory roles), the tenant's SKUs, and the security group's name,
   * owners and nested groups. Only collections longer than a page cost further requests.
   */
  async getUserAccessFacts(idOrUpn: string, securityGroupId: string | null): Promise<UserAccessFacts> {
    const operation = 'getUserAccessFacts';
    const user = userPath(idOrUpn);
    const items: BatchRequestItem[] = [
      { id: 'user', method: 'GET', url: `${user}${query({ $select: userSelect })}` },
      { id: 'memberOf', method: 'GET', url: `${user}/memberOf${query({ $top: GRAPH_PAGE_SIZE })}` },
      { id: 'transitiveMemberOf', method: 'GET', url: `${user}/transitiveMemberOf${query({ $top: GRAPH_PAGE_SIZE })}` },
      { id: 'skus', method: 'GET', url: '/subscribedSkus' },
    ];
    if (securityGroupId) {
      const group = `/groups/${pathSegment(securityGroupId)}`;
      items.push(
        { id: 'group', method: 'GET', url: `${group}${query({ $select: 'id,displayName' })}` },
        { id: 'owners', method: 'GET', url: `${group}/owners${query({ $select: 'id', $top: GRAPH_PAGE_SIZE })}` },
        { id: 'nestedGroups', method: 'GET', url: `${group}/members/microsoft.graph.group${query({ $select: MEMBER_SELECT, $top: GRAPH_PAGE_SIZE })}` },
      );
    }
    const responses = await this.batch(operation, items, idOrUpn);
    const get = (id: string) => responses.get(id)!;
    /** A collection item; 404 (the user or group does not exist) reads as empty. */
    const list = async <T>(id: string): Promise<T[]> => {
      const response = responses.get(id);
      if (!response || response.status === 404) return [];
      return this.itemCollection<T>(operation, response, idOrUpn);
    };

    const userResponse = get('user');
    if (!isOk(userResponse.status) && userResponse.status !== 404) throw this.itemError(operation, userResponse, idOrUpn);
    const skuResponse = get('skus');
    const [memberOf, transitive, skus, owners, nested] = await Promise.all([
      list<WireDirectoryObject>('memberOf'),
      list<WireDirectoryObject>('transitiveMemberOf'),
      this.itemCollection<GraphSubscribedSku>(operation, skuResponse, idOrUpn),
      list<WireDirectoryObject>('owners'),
      list<WireDirectoryObject>('nestedGroups'),
    ]);

    let securityGroupName: string | null = null;
    if (securityGroupId) {
      const group = get('group');
      if (isOk(group.status)) securityGroupName = (group.body as { displayName?: string | null }).displayName ?? null;
      else if (group.status !== 404) throw this.itemError(operation, group, securityGroupId);
    }
    const directGroupIds = memberOf.filter((o) => memberKind(o) === 'group').map((o) => o.id ?? '');
    const direct = new Set(directGroupIds);
    const adminRoles = new Set<AdminRole>();
    for (const object of [...memberOf, ...transitive]) {
      const role = adminRoleOf(object);
      if (role) adminRoles.add(role);
    }
    return {
      user: isOk(userResponse.status) ? toDirectoryUser(userResponse.body as WireUser) : null,
      skus: skus.map(toSubscribedSku),
      directGroupIds,
      nestedGroups: transitive
        .filter((o) => memberKind(o) === 'group' && !direct.has(o.id ?? ''))
        .map((o) => ({ id: o.id ?? '', displayName: o.displayName ?? null })),
      adminRoles,
      securityGroupOwnerIds: owners.map((o) => o.id ?? '').filter((id) => id !== ''),
      securityGroupNestedGroups: nested.filter((o) => memberKind(o) === 'group').map(toGroupMember),
      securityGroupName,
    };
  }

  // ── writes ─────────────────────────────────────────────────────────────────────────────────

  async createUser(input: NewDirectoryUser): Promise<DirectoryUser> {
    const profile = {
      accountEnabled: true,
      displayName: input.displayName,
      mailNickname: input.mailNickname,
      userPrincipalName: input.userPrincipalName,
      ...(input.givenName !== undefined ? { givenName: input.givenName } : {}),
      ...(input.surname !== undefined ? { surname: input.surname } : {}),
      ...(input.jobTitle !== undefined ? { jobTitle: input.jobTitle } : {}),
      ...(input.department !== undefined ? { department: input.department } : {}),
      ...(input.usageLocation !== undefined ? { usageLocation: input.usageLocation } : {}),
    };
    // U1: the password goes into the request body only; it is never logged or kept.
    const body = { ...profile, passwordProfile: { password: input.password, forceChangePasswordNextSignIn: input.forceChangePasswordNextSignIn } };
    const created: Partial<WireUser> = await this.call('createUser', () => this.client.api('/users').post(body), input.userPrincipalName);
    // The answer carries the default properties only; what we sent fills the rest.
    return toDirectoryUser({ userType: 'Member', assignedLicenses: [], onPremisesSyncEnabled: null, ...profile, ...created });
  }

  async assignLicenses(userId: string, add: readonly string[], remove: readonly string[]): Promise<void> {
    const body = { addLicenses: add.map((skuId) => ({ skuId, disabledPlans: [] })), removeLicenses: [...remove] };
    await this.call('assignLicenses', () => this.client.api(`${userPath(userId)}/assignLicense`).post(body), userId);
  }

  /** Idempotent: a user who already is a member is left as is. */
  async addGroupMember(groupId: string, userId: string): Promise<void> {
    try {
      await this.call(
        'addGroupMember',
        () => this.client.api(`/groups/${pathSegment(groupId)}/members/$ref`).post({ '@odata.id': DIRECTORY_OBJECTS + encodeURIComponent(userId) }),
        groupId,
      );
    } catch (error) {
      // Graph has no code of its own for this refusal; its message is the only tell.
      if (error instanceof ServiceError && error.status === 400 && /added object references already exist/i.test(error.message)) return;
      throw error;
    }
  }

  /** Idempotent: removing a user who is not a member of an existing group succeeds. */
  async removeGroupMember(groupId: string, userId: string): Promise<void> {
    try {
      await this.call(
        'removeGroupMember',
        () => this.client.api(`/groups/${pathSegment(groupId)}/members/${pathSegment(userId)}/$ref`).delete(),
        groupId,
      );
    } catch (error) {
      if (!(error instanceof ServiceError) || error.status !== 404) throw error;
      // 404 means "no such member" or "no such group": only the second is a failure.
      try {
        await this.call('removeGroupMember', () => this.client.api(`/groups/${pathSegment(groupId)}${query({ $select: 'id' })}`).get(), groupId);
      } catch {
        throw error;
      }
    }
  }

  // ── plumbing ───────────────────────────────────────────────────────────────────────────────

  /** One HTTP call through the client, inside the concurrency bound, with errors as `ServiceError`. */
  private async call<T>(operation: string, send: () => Promise<T>, target?: string, lane: LimitFunction = this.limit): Promise<T> {
    try {
      return await lane(send);
    } catch (error) {
      throw this.toServiceError(operation, error, target);
    }
  }

  /** Every page of a collection. */
  private async collect<T>(operation: string, url: string, target?: string): Promise<T[]> {
    const out: T[] = [];
    let next: string | undefined = url;
    while (next) {
      const link: string = next;
      const page: WireCollection<T> = await this.call(operation, () => this.client.api(link).get(), target);
      out.push(...(page.value ?? []));
      next = page['@odata.nextLink'];
    }
    return out;
  }

  /** A collection answered inside a batch, with any further pages fetched directly. */
  private async itemCollection<T>(operation: string, response: BatchResponseItem, target?: string): Promise<T[]> {
    if (!isOk(response.status)) throw this.itemError(operation, response, target);
    const page = (response.body ?? {}) as WireCollection<T>;
    const out = [...(page.value ?? [])];
    if (page['@odata.nextLink']) out.push(...(await this.collect<T>(operation, page['@odata.nextLink'], target)));
    return out;
  }

  /**
   * Sends items in JSON batches of at most 20, in parallel within the concurrency bound. Items
   * answered 429/503/504 are sent again in a new batch after the longest `Retry-After` among them,
   * under the same retry policy as single calls. Returns every item's final answer by id.
   */
  private async batch(operation: string, items: readonly BatchRequestItem[], target?: string): Promise<Map<string, BatchResponseItem>> {
    const results = new Map<string, BatchResponseItem>();
    const chunks: BatchRequestItem[][] = [];
    for (let i = 0; i < items.length; i += GRAPH_BATCH_LIMIT) chunks.push(items.slice(i, i + GRAPH_BATCH_LIMIT));
    await Promise.all(
      chunks.map(async (chunk) => {
        let pending = chunk;
        await withRetry(async () => {
          const body: BatchResponseBody = await this.call(operation, () => this.client.api('/$batch').post({ requests: pending }), target);
          const answers = new Map((body?.responses ?? []).map((r) => [r.id, r]));
          const again: BatchRequestItem[] = [];
          let waitMs: number | undefined;
          let lastRetryable: BatchResponseItem | undefined;
          for (const item of pending) {
            const answer = answers.get(item.id);
            if (!answer) throw new ServiceError({ service: 'graph', operation, target, code: 'BatchItemMissing' }, `no answer for batch item ${item.id}`);
            results.set(item.id, answer);
            if (RETRYABLE_STATUSES.has(answer.status)) {
              again.push(item);
              lastRetryable = answer;
              const ms = parseRetryAfter(header(answer.headers, 'retry-after'));
              if (ms !== undefined) waitMs = Math.max(waitMs ?? 0, ms);
            }
          }
          pending = again;
          if (lastRetryable) throw new RetryableError(this.itemError(operation, lastRetryable, target), waitMs);
        }, this.retry);
      }),
    );
    return results;
  }

  private itemError(operation: string, response: BatchResponseItem, target?: string): ServiceError {
    const { code, message } = readStandardError(response.body);
    const retryAfterMs = parseRetryAfter(header(response.headers, 'retry-after'));
    return new ServiceError(
      {
        service: 'graph',
        operation,
        target,
        status: response.status,
        code,
        retryAfterSeconds: retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000),
      },
      message,
    );
  }

  private toServiceError(operation: string, error: unknown, target?: string): ServiceError {
    if (error instanceof ServiceError) return error;
    if (error instanceof GraphError) {
      const code = error.code ?? undefined;
      if (error.statusCode > 0) {
        const retryAfterMs = parseRetryAfter(error.headers?.get('retry-after'));
        return new ServiceError(
          {
            service: 'graph',
            operation,
            target,
            status: error.statusCode,
            code,
            retryAfterSeconds: retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000),
            cause: error,
          },
          error.message,
        );
      }
      if (code && IDENTITY_ERRORS.has(code)) {
        // The SDK's message can quote the request; keep its first line.
        return new ServiceError({ service: 'identity', operation: `getToken ${this.scope}`, target, code, cause: error }, error.message.split('\n')[0]);
      }
      if (code === 'TimeoutError') return new ServiceError({ service: 'graph', operation, target, status: 504, code: 'Timeout', cause: error }, error.message);
      return new ServiceError({ service: 'graph', operation, target, code: code ?? 'NetworkError', cause: error }, error.message);
    }
    return new ServiceError({ service: 'graph', operation, target, cause: error }, String((error as Error)?.message ?? error));
  }
}

/** The gateway for the configured Graph endpoint, authenticated by the app's credential. */
export function createGraphDirectoryGateway(
  settings: Settings,
  credential: TokenCredential,
  options: { retry?: RetryPolicy; concurrency?: number } = {},
): GraphDirectoryGateway {
  return new GraphDirectoryGateway({
    baseUrl: settings.endpoints.graph,
    credential,
    retry: options.retry,
    concurrency: options.concurrency ?? settings.http.maxConcurrency,
    timeoutMs: settings.http.timeoutMs,
  });
}
