import { randomUUID } from 'node:crypto';
import type { SimContext } from '../core/context.js';
import type { Fixture, FixtureGroup, FixtureUser } from '../core/fixture.js';
import { stableId } from '../core/generate.js';
import {
  GraphFault,
  badRequest,
  evaluateFilter,
  filterProperties,
  graphError,
  needsAdvancedQuery,
  nextLink,
  notFound,
  pageSize,
  parseFilter,
  parseSelect,
  decodeSkipToken,
  segmentNotFound,
  unsupportedQuery,
  type FilterNode,
} from './odata.js';
import type { SimHandler, SimRequest, SimResponse } from '../core/host.js';

/**
 * Microsoft Graph v1.0, as far as Steward uses it: users (list, get, create, update, delete,
 * assignLicense, memberOf, transitiveMemberOf), subscribedSkus, groups (members and owners, with
 * `$ref` writes), directoryRoles and JSON batching. Answers use Graph's wire shapes: `@odata.context`,
 * `value`, absolute `@odata.nextLink` with a `$skiptoken`, `@odata.type` on directory objects, and
 * `{ error: { code, message, innerError } }` errors with the service's own codes and messages.
 *
 * State is `ctx.state.graph`, changed in place: a read after a write sees the write.
 */

type Json = Record<string, unknown>;
type Role = Fixture['graph']['directoryRoles'][number];
type Sku = Fixture['graph']['subscribedSkus'][number];

/** One call, from the wire or from inside a `$batch`. */
interface Call {
  method: string;
  /** Path segments after `/v1.0`, percent-decoded. */
  segments: Segment[];
  query: URLSearchParams;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: unknown;
  clientRequestId: string | undefined;
}

/** A path segment; `users('x')` and `directoryRoles(roleTemplateId='x')` become a name plus a key. */
type Segment = string | { key: string; alternate?: string };

const JSON_CONTENT_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const MAX_BATCH_ITEMS = 20;

// ── Property sets ────────────────────────────────────────────────────────────────────────────

const USER_PROPERTIES = [
  'id',
  'userPrincipalName',
  'displayName',
  'givenName',
  'surname',
  'jobTitle',
  'mail',
  'mailNickname',
  'mobilePhone',
  'businessPhones',
  'officeLocation',
  'preferredLanguage',
  'streetAddress',
  'city',
  'state',
  'country',
  'postalCode',
  'department',
  'companyName',
  'employeeId',
  'usageLocation',
  'accountEnabled',
  'userType',
  'assignedLicenses',
  'onPremisesSyncEnabled',
  'onPremisesImmutableId',
  'createdDateTime',
  'deletedDateTime',
  'creationType',
  'externalUserState',
  'otherMails',
  'proxyAddresses',
] as const;
const USER_ARRAYS = new Set(['businessPhones', 'assignedLicenses', 'otherMails', 'proxyAddresses']);
/** What `GET /users` returns without `$select`. */
const USER_DEFAULT = ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id'];
const USER_FILTERABLE = new Set(
  ['id', 'userPrincipalName', 'displayName', 'givenName', 'surname', 'mail', 'mailNickname', 'jobTitle', 'accountEnabled', 'userType', 'usageLocation', 'department', 'city', 'state', 'country', 'employeeId', 'onPremisesSyncEnabled', 'companyName', 'creationType'].map((p) => p.toLowerCase()),
);
/** Properties an on-premises synced user keeps from Active Directory. */
const USER_CLOUD_WRITABLE_WHEN_SYNCED = new Set(['usageLocation', 'passwordProfile', 'preferredLanguage'].map((p) => p.toLowerCase()));

const GROUP_PROPERTIES = [
  'id',
  'deletedDateTime',
  'classification',
  'createdDateTime',
  'description',
  'displayName',
  'groupTypes',
  'isAssignableToRole',
  'mail',
  'mailEnabled',
  'mailNickname',
  'membershipRule',
  'onPremisesSyncEnabled',
  'securityEnabled',
  'securityIdentifier',
  'visibility',
] as const;
const GROUP_FILTERABLE = new Set(['id', 'displayName', 'securityEnabled', 'mailEnabled', 'mailNickname', 'mail'].map((p) => p.toLowerCase()));
const ROLE_PROPERTIES = ['id', 'deletedDateTime', 'description', 'displayName', 'roleTemplateId'] as const;

const TYPE_NAMES = { user: '#microsoft.graph.user', group: '#microsoft.graph.group', role: '#microsoft.graph.directoryRole' } as const;
const CASTS: Record<string, keyof typeof TYPE_NAMES> = {
  'microsoft.graph.user': 'user',
  'microsoft.graph.group': 'group',
  'microsoft.graph.directoryrole': 'role',
};

type DirectoryObject =
  | { kind: 'user'; record: FixtureUser }
  | { kind: 'group'; record: FixtureGroup }
  | { kind: 'role'; record: Role };

// ── Helpers ──────────────────────────────────────────────────────────────────────────────────

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const eqi = (a: unknown, b: unknown) => typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();

function canonical(list: readonly string[], name: string): string | undefined {
  return list.find((p) => p.toLowerCase() === name.toLowerCase());
}

/** Splits a raw path into decoded segments, turning OData key syntax into name + key. */
function splitPath(rawPath: string): Segment[] {
  const out: Segment[] = [];
  for (const raw of rawPath.split('/').filter((s) => s.length > 0)) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      throw badRequest(`Invalid URL segment '${raw}'.`);
    }
    const keyed = /^([A-Za-z$][\w.$]*)\((.*)\)$/.exec(segment);
    if (keyed) {
      out.push(keyed[1]!);
      const inner = keyed[2]!;
      const alternate = /^(\w+)=(.*)$/.exec(inner);
      const literal = (text: string) => {
        const quoted = /^'(.*)'$/.exec(text);
        if (!quoted) throw badRequest(`Invalid key literal in '${segment}'.`);
        return quoted[1]!.replace(/''/g, "'");
      };
      if (alternate) out.push({ key: literal(alternate[2]!), alternate: alternate[1]! });
      else out.push({ key: literal(inner) });
    } else {
      out.push(segment);
    }
  }
  return out;
}

/** A key segment's value: `/users/{key}` takes doubled quotes as one (the key becomes a literal). */
function keyOf(segment: Segment | undefined): { key: string; alternate?: string } | undefined {
  if (segment === undefined) return undefined;
  if (typeof segment !== 'string') return segment;
  return { key: segment.replace(/''/g, "'") };
}

const nameOf = (segment: Segment | undefined): string | undefined => (typeof segment === 'string' ? segment : undefined);

function lowerHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

function checkPassword(password: string): boolean {
  if (password.length < 8 || password.length > 256) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  return classes >= 3;
}

// ── The handler ──────────────────────────────────────────────────────────────────────────────

export function createGraphHandler(ctx: SimContext): SimHandler {
  const graph = () => ctx.state.graph;
  const base = () => `${ctx.urls.graph}/v1.0`;
  const metadata = (fragment: string) => `${base()}/$metadata#${fragment}`;

  // ── lookups ──
  const roleId = (role: Role) => simulatedRoleId(role);
  const findUser = (key: string) => graph().users.find((u) => eqi(u.id, key) || eqi(u.userPrincipalName, key));
  const findGroup = (id: string) => graph().groups.find((g) => eqi(g.id, id));
  const findRole = (key: { key: string; alternate?: string }) =>
    graph().directoryRoles.find((r) =>
      key.alternate === undefined ? eqi(roleId(r), key.key) : eqi(key.alternate, 'roleTemplateId') && eqi(r.roleTemplateId, key.key),
    );
  const findSku = (skuId: string) => graph().subscribedSkus.find((s) => eqi(s.skuId, skuId));

  /** Directory objects by id, built once per call (tenants of thousands of users). */
  // Bumped by the writes that add or remove directory objects; a list replaced or resized from
  // outside (a test editing the state) is noticed by identity and length.
  let directoryVersion = 0;
  let objectIndexCache: { key: unknown[]; index: Map<string, DirectoryObject> } | undefined;
  const objectIndex = () => {
    // Records are indexed by id, which never changes: the index is rebuilt only when a list changes.
    const key = [directoryVersion, graph().users, graph().users.length, graph().groups, graph().groups.length, graph().directoryRoles, graph().directoryRoles.length];
    if (objectIndexCache && objectIndexCache.key.every((k, i) => k === key[i])) return objectIndexCache.index;
    const index = new Map<string, DirectoryObject>();
    objectIndexCache = { key, index };
    for (const record of graph().users) index.set(record.id.toLowerCase(), { kind: 'user', record });
    for (const record of graph().groups) index.set(record.id.toLowerCase(), { kind: 'group', record });
    for (const record of graph().directoryRoles) index.set(roleId(record).toLowerCase(), { kind: 'role', record });
    return index;
  };
  const objectId = (o: DirectoryObject) => (o.kind === 'role' ? roleId(o.record) : o.record.id);

  /** Groups and roles whose `members` holds the id (direct). */
  const containersOf = (id: string): DirectoryObject[] => [
    ...graph()
      .groups.filter((g) => g.members.some((m) => eqi(m, id)))
      .map((record) => ({ kind: 'group', record }) as DirectoryObject),
    ...graph()
      .directoryRoles.filter((r) => r.members.some((m) => eqi(m, id)))
      .map((record) => ({ kind: 'role', record }) as DirectoryObject),
  ];
  /** Containers through nesting: a group's containers are the member's containers too. */
  const transitiveContainersOf = (id: string): DirectoryObject[] => {
    const seen = new Map<string, DirectoryObject>();
    const queue = [id];
    while (queue.length > 0) {
      const current = queue.shift()!;
      for (const container of containersOf(current)) {
        const cid = objectId(container).toLowerCase();
        if (seen.has(cid)) continue;
        seen.set(cid, container);
        if (container.kind === 'group') queue.push(container.record.id);
      }
    }
    return [...seen.values()];
  };
  const transitiveMembersOf = (group: FixtureGroup, index: Map<string, DirectoryObject>): string[] => {
    const seen = new Set<string>();
    const out: string[] = [];
    const queue = [...group.members];
    while (queue.length > 0) {
      const id = queue.shift()!;
      if (seen.has(id.toLowerCase())) continue;
      seen.add(id.toLowerCase());
      out.push(id);
      const object = index.get(id.toLowerCase());
      if (object?.kind === 'group') queue.push(...object.record.members);
    }
    return out;
  };

  // ── serialisation ──
  // Fixture users may carry extra properties; they are known once the users are (writes only set
  // known ones), so the list is computed again only when the user list changes.
  let userPropertiesCache: { version: number; users: unknown; length: number; list: string[] } | undefined;
  const userProperties = () => {
    const users = graph().users;
    if (userPropertiesCache && userPropertiesCache.version === directoryVersion && userPropertiesCache.users === users && userPropertiesCache.length === users.length) {
      return userPropertiesCache.list;
    }
    const extra = new Set<string>();
    for (const u of users) for (const k of Object.keys(u)) extra.add(k);
    const list = [...new Set<string>([...USER_PROPERTIES, ...extra])];
    userPropertiesCache = { version: directoryVersion, users, length: users.length, list };
    return list;
  };
  const userValue = (user: FixtureUser, property: string): unknown => {
    const value = (user as Json)[property];
    if (value !== undefined) return value;
    return USER_ARRAYS.has(property) ? [] : null;
  };
  /** Resolves `$select` for users; an unknown property is a 400, as on Graph. */
  const userSelect = (select: string[] | undefined): string[] => {
    if (!select) return USER_DEFAULT;
    const known = userProperties();
    return select.map((name) => {
      const property = canonical(known, name);
      if (!property) throw badRequest(`Could not find a property named '${name}' on type 'microsoft.graph.user'.`);
      return property;
    });
  };
  const projectUser = (user: FixtureUser, properties: string[]): Json => {
    const out: Json = {};
    for (const p of properties) {
      const value = userValue(user, p);
      out[p] = value !== null && typeof value === 'object' ? structuredClone(value) : value;
    }
    return out;
  };
  const groupValue = (group: FixtureGroup, property: string): unknown => {
    const value = (group as Json)[property];
    if (value !== undefined) return value;
    if (property === 'groupTypes') return [];
    if (property === 'mailEnabled' || property === 'isAssignableToRole') return false;
    return null;
  };
  const roleValue = (role: Role, property: string): unknown => {
    if (property === 'id') return roleId(role);
    return (role as Json)[property] ?? null;
  };
  /** A directory object in a mixed collection: `@odata.type` first, then the selected properties its type has. */
  const projectObject = (object: DirectoryObject, select: string[] | undefined): Json => {
    const out: Json = { '@odata.type': TYPE_NAMES[object.kind] };
    if (object.kind === 'user') {
      const known = userProperties();
      const properties = select ? select.map((s) => canonical(known, s)).filter((p): p is string => !!p) : USER_DEFAULT;
      Object.assign(out, projectUser(object.record, properties));
    } else if (object.kind === 'group') {
      const properties = select ? select.map((s) => canonical(GROUP_PROPERTIES, s)).filter((p): p is string => !!p) : [...GROUP_PROPERTIES];
      for (const p of properties) out[p] = structuredClone(groupValue(object.record, p));
    } else {
      const properties = select ? select.map((s) => canonical(ROLE_PROPERTIES, s)).filter((p): p is string => !!p) : [...ROLE_PROPERTIES];
      for (const p of properties) out[p] = roleValue(object.record, p);
    }
    return out;
  };
  const projectGroup = (group: FixtureGroup, select: string[] | undefined): Json => {
    const properties = select
      ? select.map((name) => {
          const p = canonical(GROUP_PROPERTIES, name);
          if (!p) throw badRequest(`Could not find a property named '${name}' on type 'microsoft.graph.group'.`);
          return p;
        })
      : [...GROUP_PROPERTIES];
    const out: Json = {};
    for (const p of properties) out[p] = structuredClone(groupValue(group, p));
    return out;
  };
  const projectRole = (role: Role, select: string[] | undefined): Json => {
    const properties = select ? select.map((s) => canonical(ROLE_PROPERTIES, s)).filter((p): p is string => !!p) : [...ROLE_PROPERTIES];
    const out: Json = {};
    for (const p of properties) out[p] = roleValue(role, p);
    return out;
  };
  const projectSku = (sku: Sku): Json => ({
    accountName: 'Contoso',
    accountId: ctx.state.tenant.id,
    appliesTo: 'User',
    capabilityStatus: sku.capabilityStatus,
    consumedUnits: sku.consumedUnits,
    id: `${ctx.state.tenant.id}_${sku.skuId}`,
    skuId: sku.skuId,
    skuPartNumber: sku.skuPartNumber,
    subscriptionIds: [stableId('subscription', sku.skuId)],
    prepaidUnits: { enabled: sku.prepaidUnits.enabled, suspended: sku.prepaidUnits.suspended, warning: sku.prepaidUnits.warning, lockedOut: 0 },
    servicePlans: (sku as Json).servicePlans ?? [],
  });
  const contextFor = (entitySet: string, select: string[] | undefined, entity = false) =>
    metadata(`${entitySet}${select ? `(${select.join(',')})` : ''}${entity ? '/$entity' : ''}`);

  // ── queries ──
  const countRequested = (call: Call): boolean => {
    const raw = call.query.get('$count');
    if (raw === null || raw.toLowerCase() === 'false') return false;
    if (raw.toLowerCase() !== 'true') throw badRequest(`Invalid value '${raw}' for $count.`);
    if (!eqi(call.headers['consistencylevel'], 'eventual')) throw badRequest('$count is not currently supported.');
    return true;
  };
  const readFilter = (call: Call, filterable: Set<string> | null, resource: string): FilterNode | undefined => {
    const raw = call.query.get('$filter');
    if (raw === null) return undefined;
    const node = parseFilter(raw);
    if (filterable) {
      for (const property of filterProperties(node)) {
        if (!filterable.has(property.toLowerCase())) {
          throw unsupportedQuery(`Unsupported or invalid query filter clause specified for property '${property}' of resource '${resource}'.`);
        }
      }
    }
    const advanced = eqi(call.headers['consistencylevel'], 'eventual') && call.query.get('$count')?.toLowerCase() === 'true';
    if (needsAdvancedQuery(node) && !advanced) throw unsupportedQuery('Unsupported query.');
    return node;
  };
  const order = <T>(call: Call, items: T[], read: (item: T, property: string) => unknown): T[] => {
    const raw = call.query.get('$orderby');
    if (raw === null) return items;
    const match = /^\s*(\w+)(\s+(asc|desc))?\s*$/i.exec(raw);
    if (!match) throw unsupportedQuery('Unsupported query.');
    const direction = match[3]?.toLowerCase() === 'desc' ? -1 : 1;
    return [...items].sort((a, b) => {
      const x = String(read(a, match[1]!) ?? '').toLowerCase();
      const y = String(read(b, match[1]!) ?? '').toLowerCase();
      return x < y ? -direction : x > y ? direction : 0;
    });
  };
  /** One page of a collection, with `@odata.count` and `@odata.nextLink` as Graph writes them. */
  const page = <T = Json>(call: Call, path: string, context: string, items: T[], withCount: boolean, project?: (item: T) => Json): SimResponse => {
    const size = pageSize(call.query, ctx.paging);
    const token = call.query.get('$skiptoken');
    const offset = token === null ? 0 : decodeSkipToken(token);
    const slice = project ? items.slice(offset, offset + size).map(project) : items.slice(offset, offset + size);
    const body: Json = { '@odata.context': context };
    if (withCount) body['@odata.count'] = items.length;
    if (offset + size < items.length) body['@odata.nextLink'] = nextLink(base(), path, call.query, offset + size);
    body.value = slice;
    return ok(200, body);
  };
  const ok = (status: number, body?: unknown, headers: Record<string, string> = {}): SimResponse => {
    const requestId = randomUUID();
    return {
      status,
      body,
      headers: {
        ...(body !== undefined && typeof body !== 'string' ? { 'Content-Type': JSON_CONTENT_TYPE } : {}),
        'request-id': requestId,
        'client-request-id': requestId,
        ...headers,
      },
    };
  };

  // ── users ──
  const listUsers = (call: Call): SimResponse => {
    const select = parseSelect(call.query);
    const properties = userSelect(select);
    const withCount = countRequested(call);
    const filter = readFilter(call, USER_FILTERABLE, 'User');
    let users = graph().users.filter((u) => !filter || evaluateFilter(filter, u as Json));
    users = order(call, users, (u, p) => (u as Json)[canonical(userProperties(), p) ?? p]);
    return page(call, '/users', contextFor('users', select), users, withCount, (u) => projectUser(u, properties));
  };

  const verifiedDomains = () => {
    const domains = new Set<string>([ctx.state.tenant.defaultDomain.toLowerCase()]);
    for (const u of graph().users) {
      const at = u.userPrincipalName.lastIndexOf('@');
      if (at > 0) domains.add(u.userPrincipalName.slice(at + 1).toLowerCase());
    }
    return domains;
  };
  const upnTaken = (upn: string, except?: FixtureUser) => graph().users.some((u) => u !== except && eqi(u.userPrincipalName, upn));
  const requireString = (body: Json, property: string) => {
    const value = body[property];
    if (value === undefined || value === null) throw badRequest(`A value is required for property '${property}' of resource 'User'.`);
    if (typeof value !== 'string' || value.trim() === '') throw badRequest(`Invalid value specified for property '${property}' of resource 'User'.`);
    return value;
  };
  const checkUpn = (upn: string) => {
    const at = upn.lastIndexOf('@');
    if (at <= 0 || at === upn.length - 1 || /\s/.test(upn)) throw badRequest("Invalid value specified for property 'userPrincipalName' of resource 'User'.");
    if (!verifiedDomains().has(upn.slice(at + 1).toLowerCase())) {
      throw badRequest('The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.');
    }
  };

  const createUser = (call: Call): SimResponse => {
    const body = call.body;
    if (!isObject(body)) throw badRequest('Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
    if (typeof body.accountEnabled !== 'boolean') {
      throw badRequest(body.accountEnabled === undefined ? "A value is required for property 'accountEnabled' of resource 'User'." : "Invalid value specified for property 'accountEnabled' of resource 'User'.");
    }
    const displayName = requireString(body, 'displayName');
    const mailNickname = requireString(body, 'mailNickname');
    const userPrincipalName = requireString(body, 'userPrincipalName');
    const profile = body.passwordProfile;
    if (!isObject(profile) || profile.password === undefined) throw badRequest("A value is required for property 'passwordProfile' of resource 'User'.");
    if (typeof profile.password !== 'string' || !checkPassword(profile.password)) {
      throw badRequest('The specified password does not comply with password complexity requirements. Please provide a different password.');
    }
    if (/[\s@()<>\[\]";:\\,]/.test(mailNickname)) throw badRequest("Invalid value specified for property 'mailNickname' of resource 'User'.");
    checkUpn(userPrincipalName);
    if (upnTaken(userPrincipalName)) throw badRequest('Another object with the same value for property userPrincipalName already exists.');
    if (body.usageLocation !== undefined && body.usageLocation !== null && !(typeof body.usageLocation === 'string' && /^[A-Z]{2}$/.test(body.usageLocation))) {
      throw badRequest("Invalid value specified for property 'usageLocation' of resource 'User'.");
    }
    const known = new Set(USER_PROPERTIES.map((p) => p.toLowerCase()));
    const user: Json = {
      id: randomUUID(),
      userPrincipalName,
      displayName,
      mailNickname,
      accountEnabled: body.accountEnabled,
      userType: 'Member',
      assignedLicenses: [],
      businessPhones: [],
      onPremisesSyncEnabled: null,
      createdDateTime: new Date().toISOString().slice(0, 19) + 'Z',
    };
    for (const [key, value] of Object.entries(body)) {
      // U1: the password is checked, never kept.
      if (key === 'passwordProfile' || key === 'id' || key === 'assignedLicenses') continue;
      if (!known.has(key.toLowerCase())) throw badRequest(`Property '${key}' does not exist on type 'microsoft.graph.user'. Make sure to only use property names that are defined by the type.`);
      user[canonical(USER_PROPERTIES, key)!] = value;
    }
    user.userType = typeof body.userType === 'string' ? body.userType : 'Member';
    graph().users.push(user as FixtureUser);
    directoryVersion++;
    const created = projectUser(user as FixtureUser, USER_DEFAULT);
    return ok(201, { '@odata.context': contextFor('users', undefined, true), ...created }, { Location: `${base()}/users/${user.id as string}/Microsoft.DirectoryServices.User` });
  };

  const getUser = (call: Call, user: FixtureUser): SimResponse => {
    const select = parseSelect(call.query);
    return ok(200, { '@odata.context': contextFor('users', select, true), ...projectUser(user, userSelect(select)) });
  };

  const patchUser = (call: Call, user: FixtureUser): SimResponse => {
    const body = call.body;
    if (!isObject(body)) throw badRequest('Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
    const synced = (user as Json).onPremisesSyncEnabled === true;
    const changes: Json = {};
    for (const [key, value] of Object.entries(body)) {
      const property = canonical([...USER_PROPERTIES, 'passwordProfile'], key);
      if (!property) throw badRequest(`Property '${key}' does not exist on type 'microsoft.graph.user'. Make sure to only use property names that are defined by the type.`);
      if (property === 'id' || property === 'assignedLicenses' || property === 'onPremisesSyncEnabled' || property === 'createdDateTime') {
        throw badRequest(`Property '${property}' is read-only and cannot be set.`);
      }
      if (synced && !USER_CLOUD_WRITABLE_WHEN_SYNCED.has(property.toLowerCase())) {
        throw badRequest('Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.');
      }
      if (property === 'passwordProfile') {
        const password = isObject(value) ? value.password : undefined;
        if (password !== undefined && (typeof password !== 'string' || !checkPassword(password))) {
          throw badRequest('The specified password does not comply with password complexity requirements. Please provide a different password.');
        }
        continue; // never stored
      }
      if (property === 'userPrincipalName') {
        if (typeof value !== 'string') throw badRequest("Invalid value specified for property 'userPrincipalName' of resource 'User'.");
        checkUpn(value);
        if (upnTaken(value, user)) throw badRequest('Another object with the same value for property userPrincipalName already exists.');
      }
      if (property === 'accountEnabled' && typeof value !== 'boolean') throw badRequest("Invalid value specified for property 'accountEnabled' of resource 'User'.");
      if (property === 'usageLocation' && value !== null && !(typeof value === 'string' && /^[A-Z]{2}$/.test(value))) {
        throw badRequest("Invalid value specified for property 'usageLocation' of resource 'User'.");
      }
      changes[property] = value;
    }
    Object.assign(user, changes);
    return ok(204);
  };

  const deleteUser = (user: FixtureUser): SimResponse => {
    const state = graph();
    for (const license of user.assignedLicenses) {
      const sku = findSku(license.skuId);
      if (sku) sku.consumedUnits = Math.max(0, sku.consumedUnits - 1); // E7: freed at once
    }
    for (const g of state.groups) {
      g.members = g.members.filter((m) => !eqi(m, user.id));
      g.owners = g.owners.filter((m) => !eqi(m, user.id));
    }
    for (const r of state.directoryRoles) r.members = r.members.filter((m) => !eqi(m, user.id));
    state.users.splice(state.users.indexOf(user), 1);
    directoryVersion++;
    return ok(204);
  };

  const assignLicense = (call: Call, user: FixtureUser): SimResponse => {
    const body = call.body;
    if (!isObject(body)) throw badRequest('Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
    const missing = ['addLicenses', 'removeLicenses'].filter((p) => body[p] === undefined || body[p] === null);
    if (missing.length > 0) {
      throw badRequest(`One or more parameters of the function import 'assignLicense' are missing from the request payload. The missing parameters are: ${missing.join(', ')}.`);
    }
    if (!Array.isArray(body.addLicenses) || !Array.isArray(body.removeLicenses)) throw badRequest('Invalid value specified for assignLicense parameters.');
    const add = body.addLicenses.map((item) => {
      if (!isObject(item) || typeof item.skuId !== 'string') throw badRequest("Invalid value specified for property 'skuId' of resource 'AssignedLicense'.");
      const disabledPlans = Array.isArray(item.disabledPlans) ? item.disabledPlans.filter((p): p is string => typeof p === 'string') : [];
      return { skuId: item.skuId, disabledPlans };
    });
    const remove = body.removeLicenses.map((item) => {
      if (typeof item !== 'string') throw badRequest('Invalid value specified for property removeLicenses.');
      return item;
    });
    // Every check before any change: a refused call changes nothing.
    for (const item of [...add.map((a) => a.skuId), ...remove]) {
      if (!findSku(item)) throw badRequest(`License ${item} does not correspond to a valid company License.`);
    }
    if (add.length > 0) {
      const location = (user as Json).usageLocation;
      if (typeof location !== 'string' || location.trim() === '') throw badRequest('License assignment cannot be done for user with invalid usage location.');
    }
    for (const skuId of remove) {
      if (!user.assignedLicenses.some((l) => eqi(l.skuId, skuId))) throw badRequest('User does not have a corresponding license.');
    }
    for (const item of add) {
      const already = user.assignedLicenses.some((l) => eqi(l.skuId, item.skuId)) && !remove.some((r) => eqi(r, item.skuId));
      if (already) continue;
      const sku = findSku(item.skuId)!;
      if (sku.prepaidUnits.enabled - sku.consumedUnits <= 0) throw badRequest(`Subscription with SKU ${sku.skuId} does not have any available licenses.`);
    }
    for (const skuId of remove) {
      user.assignedLicenses = user.assignedLicenses.filter((l) => !eqi(l.skuId, skuId));
      const sku = findSku(skuId)!;
      sku.consumedUnits = Math.max(0, sku.consumedUnits - 1);
    }
    for (const item of add) {
      const existing = user.assignedLicenses.find((l) => eqi(l.skuId, item.skuId));
      if (existing) {
        existing.disabledPlans = item.disabledPlans;
        continue;
      }
      const sku = findSku(item.skuId)!;
      user.assignedLicenses.push({ skuId: sku.skuId, disabledPlans: item.disabledPlans });
      sku.consumedUnits += 1;
    }
    return ok(200, { '@odata.context': contextFor('users', undefined, true), ...projectUser(user, USER_DEFAULT) });
  };

  // ── directory object collections (memberOf, members, owners…) ──
  const listObjects = (call: Call, path: string, objects: DirectoryObject[], cast: Segment | undefined): SimResponse => {
    let kind: keyof typeof TYPE_NAMES | undefined;
    if (cast !== undefined) {
      const name = nameOf(cast);
      kind = name === undefined ? undefined : CASTS[name.toLowerCase()];
      if (!kind) throw segmentNotFound(typeof cast === 'string' ? cast : cast.key);
    }
    const select = parseSelect(call.query);
    const withCount = countRequested(call);
    const filter = readFilter(call, null, 'DirectoryObject');
    const shapeOf = (full: Json): Json => {
      if (!select) return full;
      const out: Json = { '@odata.type': full['@odata.type'] };
      for (const s of select) {
        const key = Object.keys(full).find((k) => k.toLowerCase() === s.toLowerCase());
        if (key) out[key] = full[key];
      }
      return out;
    };
    const context = kind ? contextFor(kind === 'role' ? 'directoryRoles' : `${kind}s`, select) : contextFor('directoryObjects', select);
    const typed = objects.filter((o) => !kind || o.kind === kind);
    if (!filter && call.query.get('$orderby') === null) {
      // Nothing reads the other pages' items: only this page's are projected.
      return page(call, path, context, typed, withCount, (o) => shapeOf(projectObject(o, undefined)));
    }
    const items = typed.map((o) => projectObject(o, undefined)).filter((o) => !filter || evaluateFilter(filter, o));
    return page(call, path, context, order(call, items.map(shapeOf), (o, p) => o[p]), withCount);
  };

  const resolveAll = (ids: readonly string[]): DirectoryObject[] => {
    const index = objectIndex();
    return ids.map((id) => index.get(id.toLowerCase())).filter((o): o is DirectoryObject => !!o);
  };

  const addReference = (call: Call, group: FixtureGroup, relation: 'members' | 'owners'): SimResponse => {
    const body = call.body;
    const ref = isObject(body) ? body['@odata.id'] : undefined;
    if (typeof ref !== 'string') throw badRequest("The request payload must contain an '@odata.id' property.");
    const match = /\/(?:directoryObjects|users|groups|servicePrincipals)\/([^/?#]+)\/?$/i.exec(ref.trim());
    if (!match) throw badRequest(`Invalid object identifier '${ref}'.`);
    const id = decodeURIComponent(match[1]!).replace(/^\('(.*)'\)$/, '$1');
    const object = objectIndex().get(id.toLowerCase());
    if (!object || object.kind === 'role') throw notFound(id);
    if (relation === 'owners' && object.kind !== 'user') throw badRequest('Invalid object identifier. Only users and service principals can be owners.');
    if (object.kind === 'group' && eqi(object.record.id, group.id)) throw badRequest('A group cannot be a member of itself.');
    if (group[relation].some((m) => eqi(m, id))) {
      throw badRequest(`One or more added object references already exist for the following modified properties: '${relation}'.`);
    }
    group[relation].push(objectId(object));
    return ok(204);
  };

  const removeReference = (group: FixtureGroup, relation: 'members' | 'owners', id: string): SimResponse => {
    if (!group[relation].some((m) => eqi(m, id))) throw notFound(id);
    group[relation] = group[relation].filter((m) => !eqi(m, id));
    return ok(204);
  };

  // ── router ──
  const methodNotAllowed = () => new GraphFault(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');

  const usersRoute = (call: Call, rest: Segment[]): SimResponse => {
    const { method } = call;
    if (rest.length === 0) {
      if (method === 'GET') return listUsers(call);
      if (method === 'POST') return createUser(call);
      throw methodNotAllowed();
    }
    if (rest.length === 1 && rest[0] === '$count') {
      if (method !== 'GET') throw methodNotAllowed();
      if (!eqi(call.headers['consistencylevel'], 'eventual')) throw badRequest('$count is not currently supported.');
      const filter = readFilter({ ...call, query: new URLSearchParams([...call.query, ['$count', 'true']]) }, USER_FILTERABLE, 'User');
      const n = graph().users.filter((u) => !filter || evaluateFilter(filter, u as Json)).length;
      return { status: 200, body: String(n), headers: { 'Content-Type': 'text/plain' } };
    }
    const key = keyOf(rest[0])!;
    // `/users/$x@y` breaks OData's URL convention (only system options start with `$`): use `/users('$x@y')`.
    if (typeof rest[0] === 'string' && key.key.startsWith('$')) throw badRequest(`Invalid object identifier '${key.key}'.`);
    const user = findUser(key.key);
    if (!user) throw notFound(key.key);
    const [, navigation, ...tail] = rest;
    if (navigation === undefined) {
      if (method === 'GET') return getUser(call, user);
      if (method === 'PATCH') return patchUser(call, user);
      if (method === 'DELETE') return deleteUser(user);
      throw methodNotAllowed();
    }
    const nav = nameOf(navigation)?.toLowerCase();
    const path = `/users/${encodeURIComponent(user.id)}/${nameOf(navigation) ?? ''}${tail.length > 0 ? '/' + tail.map((t) => nameOf(t) ?? '').join('/') : ''}`;
    if (nav === 'assignlicense' && tail.length === 0) {
      if (method !== 'POST') throw methodNotAllowed();
      return assignLicense(call, user);
    }
    if ((nav === 'memberof' || nav === 'transitivememberof') && tail.length <= 1) {
      if (method !== 'GET') throw methodNotAllowed();
      const objects = nav === 'memberof' ? containersOf(user.id) : transitiveContainersOf(user.id);
      return listObjects(call, path, objects, tail[0]);
    }
    throw segmentNotFound(typeof navigation === 'string' ? navigation : navigation.key);
  };

  const groupsRoute = (call: Call, rest: Segment[]): SimResponse => {
    const { method } = call;
    if (rest.length === 0) {
      if (method !== 'GET') throw methodNotAllowed();
      const select = parseSelect(call.query);
      const withCount = countRequested(call);
      const filter = readFilter(call, GROUP_FILTERABLE, 'Group');
      const groups = graph().groups.filter((g) => !filter || evaluateFilter(filter, projectGroup(g, undefined)));
      return page(call, '/groups', contextFor('groups', select), groups.map((g) => projectGroup(g, select)), withCount);
    }
    const key = keyOf(rest[0])!;
    const group = findGroup(key.key);
    if (!group) throw notFound(key.key);
    const [, navigation, third, fourth, ...more] = rest;
    if (navigation === undefined) {
      if (method !== 'GET') throw methodNotAllowed();
      const select = parseSelect(call.query);
      return ok(200, { '@odata.context': contextFor('groups', select, true), ...projectGroup(group, select) });
    }
    const nav = nameOf(navigation);
    const relation = nav === 'members' ? 'members' : nav === 'owners' ? 'owners' : undefined;
    if (nav === 'transitiveMembers' && fourth === undefined) {
      if (method !== 'GET') throw methodNotAllowed();
      return listObjects(call, `/groups/${group.id}/transitiveMembers`, resolveAll(transitiveMembersOf(group, objectIndex())), third);
    }
    if (!relation) throw segmentNotFound(typeof navigation === 'string' ? navigation : navigation.key);
    const path = `/groups/${group.id}/${relation}${third !== undefined ? `/${nameOf(third) ?? ''}` : ''}`;
    if (third === '$ref' && fourth === undefined) {
      if (method === 'POST') return addReference(call, group, relation);
      throw methodNotAllowed();
    }
    if (third !== undefined && fourth === '$ref' && more.length === 0) {
      if (method !== 'DELETE') throw methodNotAllowed();
      return removeReference(group, relation, keyOf(third)!.key);
    }
    if (fourth === undefined) {
      if (method !== 'GET') throw methodNotAllowed();
      return listObjects(call, path, resolveAll(group[relation]), third);
    }
    throw segmentNotFound(nameOf(fourth) ?? '');
  };

  const rolesRoute = (call: Call, rest: Segment[]): SimResponse => {
    if (call.method !== 'GET') throw methodNotAllowed();
    if (rest.length === 0) {
      const select = parseSelect(call.query);
      const filter = readFilter(call, new Set(['id', 'roletemplateid', 'displayname']), 'DirectoryRole');
      const roles = graph().directoryRoles.filter((r) => !filter || evaluateFilter(filter, projectRole(r, undefined)));
      return ok(200, { '@odata.context': contextFor('directoryRoles', select), value: roles.map((r) => projectRole(r, select)) });
    }
    const key = keyOf(rest[0])!;
    if (key.alternate !== undefined && !eqi(key.alternate, 'roleTemplateId')) throw badRequest(`Invalid alternate key '${key.alternate}'.`);
    const role = findRole(key);
    if (!role) throw notFound(key.key);
    const [, navigation, cast, ...more] = rest;
    if (navigation === undefined) {
      const select = parseSelect(call.query);
      return ok(200, { '@odata.context': contextFor('directoryRoles', select, true), ...projectRole(role, select) });
    }
    if (navigation === 'members' && more.length === 0) {
      return listObjects(call, `/directoryRoles/${roleId(role)}/members`, resolveAll(role.members), cast);
    }
    throw segmentNotFound(nameOf(navigation) ?? '');
  };

  const skusRoute = (call: Call, rest: Segment[]): SimResponse => {
    if (call.method !== 'GET') throw methodNotAllowed();
    if (rest.length === 0) {
      return ok(200, { '@odata.context': metadata('subscribedSkus'), value: graph().subscribedSkus.map(projectSku) });
    }
    const id = keyOf(rest[0])!.key;
    const sku = graph().subscribedSkus.find((s) => eqi(`${ctx.state.tenant.id}_${s.skuId}`, id));
    if (!sku || rest.length > 1) throw notFound(id);
    return ok(200, { '@odata.context': metadata('subscribedSkus/$entity'), ...projectSku(sku) });
  };

  const route = (call: Call): SimResponse => {
    const [collection, ...rest] = call.segments;
    switch (nameOf(collection)) {
      case 'users':
        return usersRoute(call, rest);
      case 'groups':
        return groupsRoute(call, rest);
      case 'directoryRoles':
        return rolesRoute(call, rest);
      case 'subscribedSkus':
        return skusRoute(call, rest);
      case 'directoryObjects': {
        if (call.method !== 'GET' || rest.length !== 1) throw methodNotAllowed();
        const id = keyOf(rest[0])!.key;
        const object = objectIndex().get(id.toLowerCase());
        if (!object) throw notFound(id);
        return ok(200, { '@odata.context': metadata('directoryObjects/$entity'), ...projectObject(object, parseSelect(call.query)) });
      }
      default:
        throw segmentNotFound(collection === undefined ? '' : typeof collection === 'string' ? collection : collection.key);
    }
  };

  /** Runs one call and turns a `GraphFault` into Graph's error body. */
  const answer = (call: Call): SimResponse => {
    try {
      return route(call);
    } catch (error) {
      if (error instanceof GraphFault) return graphError(error.status, error.code, error.message, call.clientRequestId, error.headers);
      throw error;
    }
  };

  // ── $batch ──
  const recordBatch = (count: number) => {
    // The host pushed this request's record before calling us; it is the oldest unanswered $batch.
    for (let i = Math.max(0, ctx.log.length - 2000); i < ctx.log.length; i++) {
      const record = ctx.log[i]!;
      if (record.host === 'graph' && record.method === 'POST' && record.status === 0 && record.batchItems === undefined && record.url.split('?')[0]!.endsWith('/$batch')) {
        record.batchItems = count;
        return;
      }
    }
  };

  const batch = (request: SimRequest, clientRequestId: string | undefined): SimResponse => {
    const invalid = (message = 'Invalid batch payload format.') => graphError(400, 'BadRequest', message, clientRequestId);
    const body = request.body;
    if (!isObject(body) || !Array.isArray(body.requests)) return invalid();
    const items = body.requests as unknown[];
    recordBatch(items.length);
    if (items.length === 0) return invalid();
    if (items.length > MAX_BATCH_ITEMS) return invalid(`Number of requests in the batch exceeds the limit of ${MAX_BATCH_ITEMS}.`);
    const ids = new Set<string>();
    for (const item of items) {
      if (!isObject(item) || typeof item.id !== 'string' || item.id === '' || typeof item.method !== 'string' || typeof item.url !== 'string') return invalid();
      if (ids.has(item.id)) return invalid(`Request ids must be unique; '${item.id}' is repeated.`);
      ids.add(item.id);
      if (item.dependsOn !== undefined && !(Array.isArray(item.dependsOn) && item.dependsOn.every((d) => typeof d === 'string'))) return invalid();
    }
    const statuses = new Map<string, number>();
    const responses: Json[] = [];
    for (const item of items as Json[]) {
      const id = item.id as string;
      const itemHeaders = isObject(item.headers) ? lowerHeaders(item.headers as Record<string, string>) : {};
      const itemClientId = itemHeaders['client-request-id'] ?? clientRequestId;
      let response: SimResponse;
      const dependsOn = (item.dependsOn as string[] | undefined) ?? [];
      const failedDependency = dependsOn.find((d) => {
        const status = statuses.get(d);
        return status === undefined || status < 200 || status >= 300;
      });
      const draw = ctx.faults.decideItem(['graph']);
      if (failedDependency !== undefined) {
        response = graphError(424, 'FailedDependency', `The request depends on request '${failedDependency}', which failed or was not run.`, itemClientId);
      } else if (draw.throttled) {
        response = graphError(429, 'TooManyRequests', 'Too many requests, retry later', itemClientId, { 'Retry-After': String(draw.retryAfterSeconds) });
      } else {
        const rawUrl = item.url as string;
        if (/^[a-z]+:\/\//i.test(rawUrl)) {
          response = graphError(400, 'BadRequest', 'Batch request URLs must be relative to the version (for example /users).', itemClientId);
        } else {
          const url = new URL(`/v1.0/${rawUrl.replace(/^\/+/, '')}`, ctx.urls.graph);
          try {
            const segments = splitPath(url.pathname).slice(1);
            if (nameOf(segments[0]) === '$batch') throw badRequest('A $batch request cannot be nested in a batch.');
            response = answer({
              method: (item.method as string).toUpperCase(),
              segments,
              query: url.searchParams,
              headers: itemHeaders,
              body: item.body,
              clientRequestId: itemClientId,
            });
          } catch (error) {
            if (!(error instanceof GraphFault)) throw error;
            response = graphError(error.status, error.code, error.message, itemClientId);
          }
        }
      }
      statuses.set(id, response.status);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers ?? {})) {
        if (name.toLowerCase() !== 'request-id' && name.toLowerCase() !== 'client-request-id') headers[name] = value;
      }
      if (response.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
        headers['Content-Type'] = typeof response.body === 'string' ? 'text/plain' : JSON_CONTENT_TYPE;
      }
      const entry: Json = { id, status: response.status, headers };
      if (response.body !== undefined) entry.body = response.body;
      responses.push(entry);
    }
    return ok(200, { responses });
  };

  return (request) => {
    const headers = lowerHeaders(request.headers);
    const clientRequestId = headers['client-request-id'];
    let segments: Segment[];
    try {
      segments = splitPath(request.url.pathname);
    } catch (error) {
      if (error instanceof GraphFault) return graphError(error.status, error.code, error.message, clientRequestId);
      throw error;
    }
    const [version, ...rest] = segments;
    if (version !== 'v1.0') return graphError(400, 'BadRequest', 'Invalid version.', clientRequestId);
    if (rest.length === 1 && rest[0] === '$batch') {
      if (request.method !== 'POST') return graphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.', clientRequestId);
      return batch(request, clientRequestId);
    }
    const response = answer({ method: request.method.toUpperCase(), segments: rest, query: request.url.searchParams, headers, body: request.body, clientRequestId });
    if (clientRequestId && response.headers) response.headers['client-request-id'] = clientRequestId;
    return response;
  };
}

/** For tests: the id the simulator gives a directory role (stable across runs). */
export function simulatedRoleId(role: { roleTemplateId: string; id?: unknown }): string {
  return typeof role.id === 'string' ? role.id : stableId('directoryRole', role.roleTemplateId);
}

