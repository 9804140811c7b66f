import type { SimResponse } from '../core/host.js';
import type { DirectoryObject, GraphDirectory } from './directory.js';
import {
  badRequest,
  decodeSkipToken,
  evaluateFilter,
  filterProperties,
  needsAdvancedQuery,
  nextLink,
  pageSize,
  parseFilter,
  parseSelect,
  segmentNotFound,
  unsupportedQuery,
  type FilterNode,
} from './odata.js';
import { projectObject } from './projection.js';
import { CASTS, type TYPE_NAMES } from './properties.js';
import { eqi, nameOf, ok, segmentText, type Call, type Json, type Segment } from './protocol.js';

/**
 * The query options of Graph collections: `$count` (advanced queries only), `$filter` (per
 * resource, with the operators that need `ConsistencyLevel: eventual`), `$orderby`, and server-driven
 * paging with `$top` and `@odata.nextLink`.
 */

export function countRequested(call: Call): boolean {
  const raw = call.query.get('$count');
  if (raw === null || raw.toLowerCase() === 'false') return false;
  if (raw.toLowerCase() !== 'true') throw badRequest(`Invalid value '${raw}' for $count.`);
  if (!eqi(call.headers['consistencylevel'], 'eventual')) throw badRequest('$count is not currently supported.');
  return true;
}

/** `$filter`, checked against the properties the resource filters on (`null`: any). */
export function readFilter(call: Call, filterable: Set<string> | null, resource: string): FilterNode | undefined {
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
}

export function order<T>(call: Call, items: T[], read: (item: T, property: string) => unknown): T[] {
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
}

/** One page of a collection, with `@odata.count` and `@odata.nextLink` as Graph writes them. */
export function page<T = Json>(
  dir: GraphDirectory,
  call: Call,
  path: string,
  context: string,
  items: T[],
  withCount: boolean,
  project?: (item: T) => Json,
  fixedSize?: number,
): SimResponse {
  const size = fixedSize ?? pageSize(call.query, dir.ctx.paging);
  const token = call.query.get('$skiptoken');
  const offset = token === null ? 0 : decodeSkipToken(token);
  const slice = project ? items.slice(offset, offset + size).map(project) : items.slice(offset, offset + size);
  const body: Json = { '@odata.context': context };
  if (withCount) body['@odata.count'] = items.length;
  if (offset + size < items.length) body['@odata.nextLink'] = nextLink(dir.base(), path, call.query, offset + size);
  body.value = slice;
  return ok(200, body);
}

/** A collection of directory objects (memberOf, members, owners…), optionally cast to one type. */
export function listObjects(dir: GraphDirectory, call: Call, path: string, objects: DirectoryObject[], cast: Segment | undefined, fixedSize?: number): SimResponse {
  let kind: keyof typeof TYPE_NAMES | undefined;
  if (cast !== undefined) {
    const name = nameOf(cast);
    kind = name === undefined ? undefined : CASTS[name.toLowerCase()];
    if (!kind) throw segmentNotFound(segmentText(cast));
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
  const context = kind ? dir.contextFor(kind === 'role' ? 'directoryRoles' : `${kind}s`, select) : dir.contextFor('directoryObjects', select);
  const typed = objects.filter((o) => !kind || o.kind === kind);
  if (!filter && call.query.get('$orderby') === null) {
    // Nothing reads the other pages' items: only this page's are projected.
    return page(dir, call, path, context, typed, withCount, (o) => shapeOf(projectObject(dir, o, undefined)), fixedSize);
  }
  const items = typed.map((o) => projectObject(dir, o, undefined)).filter((o) => !filter || evaluateFilter(filter, o));
  return page(dir, call, path, context, order(call, items.map(shapeOf), (o, p) => o[p]), withCount, undefined, fixedSize);
}
