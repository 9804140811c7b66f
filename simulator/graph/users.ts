import { randomUUID } from 'node:crypto';
import type { SimResponse } from '../core/host.js';
import type { FixtureUser } from '../core/fixture.js';
import { countRequested, listObjects, order, page, readFilter } from './collections.js';
import { isDelta, usersDelta } from './delta.js';
import type { GraphDirectory } from './directory.js';
import { assignLicense } from './licenses.js';
import { GraphFault, badRequest, evaluateFilter, notFound, parseSelect, segmentNotFound } from './odata.js';
import { projectUser, userSelect } from './projection.js';
import { SIGN_IN_ACTIVITY, SIGN_IN_ACTIVITY_MAX_PAGE, USER_CLOUD_WRITABLE_WHEN_SYNCED, USER_DEFAULT, USER_FILTERABLE, USER_PROPERTIES } from './properties.js';
import { canonical, eqi, isObject, keyOf, methodNotAllowed, nameOf, ok, segmentText, type Call, type Json, type Segment } from './protocol.js';

/**
 * `/users`: list (with `$select`, `$filter`, `$orderby`, `$count`), create, get, update, delete,
 * `assignLicense`, `memberOf` and `transitiveMemberOf`, with Graph's validation messages.
 */

const UNREADABLE_BODY = 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.';
const WEAK_PASSWORD = 'The specified password does not comply with password complexity requirements. Please provide a different password.';
const UPN_TAKEN = 'Another object with the same value for property userPrincipalName already exists.';
const invalidValue = (property: string) => badRequest(`Invalid value specified for property '${property}' of resource 'User'.`);
const unknownProperty = (key: string) =>
  badRequest(`Property '${key}' does not exist on type 'microsoft.graph.user'. Make sure to only use property names that are defined by the type.`);

const READ_ONLY = new Set(['id', 'assignedLicenses', 'onPremisesSyncEnabled', 'createdDateTime', 'licenseAssignmentStates', 'signInActivity']);

function checkPassword(password: string): boolean {
  if (password.length < 8 || password.length > 256) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  return classes >= 3;
}

const isUsageLocation = (value: unknown) => typeof value === 'string' && /^[A-Z]{2}$/.test(value);

function requireString(body: Json, property: string): string {
  const value = body[property];
  if (value === undefined || value === null) throw badRequest(`A value is required for property '${property}' of resource 'User'.`);
  if (typeof value !== 'string' || value.trim() === '') throw invalidValue(property);
  return value;
}

function verifiedDomains(dir: GraphDirectory): Set<string> {
  const domains = new Set<string>([dir.ctx.state.tenant.defaultDomain.toLowerCase()]);
  for (const u of dir.graph.users) {
    const at = u.userPrincipalName.lastIndexOf('@');
    if (at > 0) domains.add(u.userPrincipalName.slice(at + 1).toLowerCase());
  }
  return domains;
}

const upnTaken = (dir: GraphDirectory, upn: string, except?: FixtureUser) => dir.graph.users.some((u) => u !== except && eqi(u.userPrincipalName, upn));

function checkUpn(dir: GraphDirectory, upn: string): void {
  const at = upn.lastIndexOf('@');
  if (at <= 0 || at === upn.length - 1 || /\s/.test(upn)) throw invalidValue('userPrincipalName');
  if (!verifiedDomains(dir).has(upn.slice(at + 1).toLowerCase())) {
    throw badRequest('The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.');
  }
}

/**
 * L2: selecting `signInActivity` needs Entra ID P1 and AuditLog.Read.All; without them Graph answers
 * 403 with this code and message (microsoft-graph-docs-contrib concepts/known-issues.md shows the
 * body; the 403 status is observed, not documented). A fixture says `tenant.signInActivityAvailable: false`.
 * Listing with it selected allows pages of at most 500 (beta user-list since 2025-07; unconfirmed for v1.0).
 */
function checkSignInActivity(dir: GraphDirectory, call: Call, properties: readonly string[], listing: boolean): void {
  if (!properties.includes(SIGN_IN_ACTIVITY)) return;
  if (dir.ctx.state.tenant.signInActivityAvailable === false) {
    throw new GraphFault(403, 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', "Neither tenant is B2C or tenant doesn't have premium license");
  }
  const top = call.query.get('$top');
  if (listing && top !== null && Number(top) > SIGN_IN_ACTIVITY_MAX_PAGE) {
    throw badRequest(`Cannot query data for more than ${SIGN_IN_ACTIVITY_MAX_PAGE} users at a time.`);
  }
}

function listUsers(dir: GraphDirectory, call: Call): SimResponse {
  const select = parseSelect(call.query);
  const properties = userSelect(dir, select);
  checkSignInActivity(dir, call, properties, true);
  const withCount = countRequested(call);
  const filter = readFilter(call, USER_FILTERABLE, 'User');
  let users = dir.graph.users.filter((u) => !filter || evaluateFilter(filter, u as Json));
  users = order(call, users, (u, p) => (u as Json)[canonical(dir.userProperties(), p) ?? p]);
  return page(dir, call, '/users', dir.contextFor('users', select), users, withCount, (u) => projectUser(u, properties));
}

function countUsers(dir: GraphDirectory, call: Call): SimResponse {
  if (!eqi(call.headers['consistencylevel'], 'eventual')) throw badRequest('$count is not currently supported.');
  const filter = readFilter({ ...call, query: new URLSearchParams([...call.query, ['$count', 'true']]) }, USER_FILTERABLE, 'User');
  const n = dir.graph.users.filter((u) => !filter || evaluateFilter(filter, u as Json)).length;
  return { status: 200, body: String(n), headers: { 'Content-Type': 'text/plain' } };
}

/** The checks of a new user's required properties and password, in Graph's order. */
function checkNewUser(dir: GraphDirectory, body: Json): { displayName: string; mailNickname: string; userPrincipalName: string } {
  if (typeof body.accountEnabled !== 'boolean') {
    throw body.accountEnabled === undefined ? badRequest("A value is required for property 'accountEnabled' of resource 'User'.") : invalidValue('accountEnabled');
  }
  const displayName = requireString(body, 'displayName');
  const mailNickname = requireString(body, 'mailNickname');
  const userPrincipalName = requireString(body, 'userPrincipalName');
  const profile = body.passwordProfile;
  if (!isObject(profile) || profile.password === undefined) throw badRequest("A value is required for property 'passwordProfile' of resource 'User'.");
  if (typeof profile.password !== 'string' || !checkPassword(profile.password)) throw badRequest(WEAK_PASSWORD);
  if (/[\s@()<>\[\]";:\\,]/.test(mailNickname)) throw invalidValue('mailNickname');
  checkUpn(dir, userPrincipalName);
  if (upnTaken(dir, userPrincipalName)) throw badRequest(UPN_TAKEN);
  if (body.usageLocation !== undefined && body.usageLocation !== null && !isUsageLocation(body.usageLocation)) throw invalidValue('usageLocation');
  return { displayName, mailNickname, userPrincipalName };
}

function createUser(dir: GraphDirectory, call: Call): SimResponse {
  const body = call.body;
  if (!isObject(body)) throw badRequest(UNREADABLE_BODY);
  const { displayName, mailNickname, userPrincipalName } = checkNewUser(dir, body);
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
    if (READ_ONLY.has(canonical(USER_PROPERTIES, key) ?? '')) throw badRequest(`Property '${key}' is read-only and cannot be set.`);
    if (!known.has(key.toLowerCase())) throw unknownProperty(key);
    user[canonical(USER_PROPERTIES, key)!] = value;
  }
  user.userType = typeof body.userType === 'string' ? body.userType : 'Member';
  dir.graph.users.push(user as FixtureUser);
  dir.ctx.events.createdAt.set(String(user.id).toLowerCase(), Date.now());
  dir.changed();
  const created = projectUser(user as FixtureUser, USER_DEFAULT);
  return ok(201, { '@odata.context': dir.contextFor('users', undefined, true), ...created }, { Location: `${dir.base()}/users/${user.id as string}/Microsoft.DirectoryServices.User` });
}

function getUser(dir: GraphDirectory, call: Call, user: FixtureUser): SimResponse {
  const select = parseSelect(call.query);
  checkSignInActivity(dir, call, userSelect(dir, select), false);
  return ok(200, { '@odata.context': dir.contextFor('users', select, true), ...projectUser(user, userSelect(dir, select)) });
}

/** One property of a PATCH: refused, ignored (`passwordProfile`: checked, never stored) or kept. */
function checkChange(dir: GraphDirectory, user: FixtureUser, synced: boolean, key: string, value: unknown): string | null {
  const property = canonical([...USER_PROPERTIES, 'passwordProfile'], key);
  if (!property) throw unknownProperty(key);
  if (READ_ONLY.has(property)) {
    throw badRequest(`Property '${property}' is read-only and cannot be set.`);
  }
  if (synced && !USER_CLOUD_WRITABLE_WHEN_SYNCED.has(property.toLowerCase())) {
    throw badRequest('Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.');
  }
  if (property === 'passwordProfile') {
    const password = isObject(value) ? value.password : undefined;
    if (password !== undefined && (typeof password !== 'string' || !checkPassword(password))) throw badRequest(WEAK_PASSWORD);
    return null; // never stored
  }
  if (property === 'userPrincipalName') {
    if (typeof value !== 'string') throw invalidValue('userPrincipalName');
    checkUpn(dir, value);
    if (upnTaken(dir, value, user)) throw badRequest(UPN_TAKEN);
  }
  if (property === 'accountEnabled' && typeof value !== 'boolean') throw invalidValue('accountEnabled');
  if (property === 'usageLocation' && value !== null && !isUsageLocation(value)) throw invalidValue('usageLocation');
  return property;
}

function patchUser(dir: GraphDirectory, call: Call, user: FixtureUser): SimResponse {
  const body = call.body;
  if (!isObject(body)) throw badRequest(UNREADABLE_BODY);
  const synced = (user as Json).onPremisesSyncEnabled === true;
  const changes: Json = {};
  for (const [key, value] of Object.entries(body)) {
    const property = checkChange(dir, user, synced, key, value);
    if (property !== null) changes[property] = value;
  }
  Object.assign(user, changes);
  return ok(204);
}

function deleteUser(dir: GraphDirectory, user: FixtureUser): SimResponse {
  const state = dir.graph;
  for (const license of user.assignedLicenses) {
    const sku = dir.findSku(license.skuId);
    if (sku) sku.consumedUnits = Math.max(0, sku.consumedUnits - 1); // E7: freed at once
  }
  for (const g of state.groups) {
    g.members = g.members.filter((m) => !eqi(m, user.id));
    g.owners = g.owners.filter((m) => !eqi(m, user.id));
  }
  for (const r of state.directoryRoles) r.members = r.members.filter((m) => !eqi(m, user.id));
  state.users.splice(state.users.indexOf(user), 1);
  dir.changed();
  return ok(204);
}

/** `/users/{id}/…`: the navigations of one user. */
function userNavigation(dir: GraphDirectory, call: Call, user: FixtureUser, navigation: Segment, tail: Segment[]): SimResponse {
  const { method } = call;
  const nav = nameOf(navigation)?.toLowerCase();
  const path = `/users/${encodeURIComponent(user.id)}/${nameOf(navigation) ?? ''}${tail.length > 0 ? '/' + tail.map((t) => nameOf(t) ?? '').join('/') : ''}`;
  if (nav === 'assignlicense' && tail.length === 0) {
    if (method !== 'POST') throw methodNotAllowed();
    return assignLicense(dir, call, user);
  }
  if ((nav === 'memberof' || nav === 'transitivememberof') && tail.length <= 1) {
    if (method !== 'GET') throw methodNotAllowed();
    const objects = nav === 'memberof' ? dir.containersOf(user.id) : dir.transitiveContainersOf(user.id);
    return listObjects(dir, call, path, objects, tail[0]);
  }
  throw segmentNotFound(segmentText(navigation));
}

export function usersRoute(dir: GraphDirectory, call: Call, rest: Segment[]): SimResponse {
  const { method } = call;
  if (rest.length === 0) {
    if (method === 'GET') return listUsers(dir, call);
    if (method === 'POST') return createUser(dir, call);
    throw methodNotAllowed();
  }
  if (rest.length === 1 && isDelta(rest[0])) {
    if (method !== 'GET') throw methodNotAllowed();
    return usersDelta(dir, call);
  }
  if (rest.length === 1 && rest[0] === '$count') {
    if (method !== 'GET') throw methodNotAllowed();
    return countUsers(dir, call);
  }
  const key = keyOf(rest[0])!;
  // `/users/$x@y` breaks OData's URL convention (only system options start with `$`): use `/users('$x@y')`.
  if (typeof rest[0] === 'string' && key.key.startsWith('$')) throw badRequest(`Invalid object identifier '${key.key}'.`);
  const user = dir.findUser(key.key);
  if (!user || dir.replicating(user.id)) throw notFound(key.key);
  const [, navigation, ...tail] = rest;
  if (navigation !== undefined) return userNavigation(dir, call, user, navigation, tail);
  if (method === 'GET') return getUser(dir, call, user);
  if (method === 'PATCH') return patchUser(dir, call, user);
  if (method === 'DELETE') return deleteUser(dir, user);
  throw methodNotAllowed();
}
