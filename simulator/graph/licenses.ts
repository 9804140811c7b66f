import type { SimResponse } from '../core/host.js';
import type { FixtureUser } from '../core/fixture.js';
import { stableId } from '../core/ids.js';
import type { GraphDirectory, Sku } from './directory.js';
import { badRequest, notFound } from './odata.js';
import { projectUser } from './projection.js';
import { USER_DEFAULT } from './properties.js';
import { eqi, isObject, keyOf, methodNotAllowed, ok, type Call, type Json, type Segment } from './protocol.js';

/** Licences: `/subscribedSkus` and `/users/{id}/assignLicense`, which counts units as Graph does. */

function projectSku(dir: GraphDirectory, sku: Sku): Json {
  const tenantId = dir.ctx.state.tenant.id;
  return {
    accountName: 'Contoso',
    accountId: tenantId,
    appliesTo: 'User',
    capabilityStatus: sku.capabilityStatus,
    consumedUnits: sku.consumedUnits,
    id: `${tenantId}_${sku.skuId}`,
    skuId: sku.skuId,
    skuPartNumber: sku.skuPartNumber,
    subscriptionIds: [stableId('subscription', sku.skuId)],
    prepaidUnits: { enabled: sku.prepaidUnits.enabled, suspended: sku.prepaidUnits.suspended, warning: sku.prepaidUnits.warning, lockedOut: 0 },
    servicePlans: (sku as Json).servicePlans ?? [],
  };
}

export function skusRoute(dir: GraphDirectory, call: Call, rest: Segment[]): SimResponse {
  if (call.method !== 'GET') throw methodNotAllowed();
  if (rest.length === 0) {
    return ok(200, { '@odata.context': dir.metadata('subscribedSkus'), value: dir.graph.subscribedSkus.map((s) => projectSku(dir, s)) });
  }
  const id = keyOf(rest[0])!.key;
  const sku = dir.graph.subscribedSkus.find((s) => eqi(`${dir.ctx.state.tenant.id}_${s.skuId}`, id));
  if (!sku || rest.length > 1) throw notFound(id);
  return ok(200, { '@odata.context': dir.metadata('subscribedSkus/$entity'), ...projectSku(dir, sku) });
}

interface LicenseChange {
  add: { skuId: string; disabledPlans: string[] }[];
  remove: string[];
}

/** The body of `assignLicense`: both lists present, each item well formed. */
function readLicenseChange(body: unknown): LicenseChange {
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
  return { add, remove };
}

/** Every check before any change: a refused call changes nothing. */
function checkLicenseChange(dir: GraphDirectory, user: FixtureUser, { add, remove }: LicenseChange): void {
  for (const item of [...add.map((a) => a.skuId), ...remove]) {
    if (!dir.findSku(item)) throw badRequest(`License ${item} does not correspond to a valid company License.`);
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
    const sku = dir.findSku(item.skuId)!;
    if (sku.prepaidUnits.enabled - sku.consumedUnits <= 0) throw badRequest(`Subscription with SKU ${sku.skuId} does not have any available licenses.`);
  }
}

export function assignLicense(dir: GraphDirectory, call: Call, user: FixtureUser): SimResponse {
  const change = readLicenseChange(call.body);
  checkLicenseChange(dir, user, change);
  for (const skuId of change.remove) {
    user.assignedLicenses = user.assignedLicenses.filter((l) => !eqi(l.skuId, skuId));
    const sku = dir.findSku(skuId)!;
    sku.consumedUnits = Math.max(0, sku.consumedUnits - 1);
  }
  for (const item of change.add) {
    const existing = user.assignedLicenses.find((l) => eqi(l.skuId, item.skuId));
    if (existing) {
      existing.disabledPlans = item.disabledPlans;
      continue;
    }
    const sku = dir.findSku(item.skuId)!;
    user.assignedLicenses.push({ skuId: sku.skuId, disabledPlans: item.disabledPlans });
    sku.consumedUnits += 1;
  }
  // R5: the admin API sees a new licence only once it has propagated (simulator/powerplatform).
  if (change.add.length > 0) dir.ctx.events.licensedAt.set(user.id.toLowerCase(), Date.now());
  return ok(200, { '@odata.context': dir.contextFor('users', undefined, true), ...projectUser(user, USER_DEFAULT) });
}
