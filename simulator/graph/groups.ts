import type { SimResponse } from '../core/host.js';
import type { FixtureGroup } from '../core/fixture.js';
import { countRequested, listObjects, page, readFilter } from './collections.js';
import { groupsDelta, isDelta } from './delta.js';
import type { GraphDirectory } from './directory.js';
import { badRequest, evaluateFilter, notFound, parseSelect, segmentNotFound } from './odata.js';
import { projectGroup } from './projection.js';
import { GROUP_FILTERABLE } from './properties.js';
import { eqi, isObject, keyOf, methodNotAllowed, nameOf, ok, segmentText, type Call, type Segment } from './protocol.js';

/** `/groups`: list, get, `members` / `owners` / `transitiveMembers`, and the `$ref` writes of membership. */

type Relation = 'members' | 'owners';

function listGroups(dir: GraphDirectory, call: Call): SimResponse {
  const select = parseSelect(call.query);
  const withCount = countRequested(call);
  const filter = readFilter(call, GROUP_FILTERABLE, 'Group');
  const groups = dir.graph.groups.filter((g) => !filter || evaluateFilter(filter, projectGroup(g, undefined)));
  return page(dir, call, '/groups', dir.contextFor('groups', select), groups.map((g) => projectGroup(g, select)), withCount);
}

function addReference(dir: GraphDirectory, call: Call, group: FixtureGroup, relation: Relation): SimResponse {
  const body = call.body;
  const ref = isObject(body) ? body['@odata.id'] : undefined;
  if (typeof ref !== 'string') throw badRequest("The request payload must contain an '@odata.id' property.");
  const match = /\/(?:directoryObjects|users|groups|servicePrincipals)\/([^/?#]+)\/?$/i.exec(ref.trim());
  if (!match) throw badRequest(`Invalid object identifier '${ref}'.`);
  const id = decodeURIComponent(match[1]!).replace(/^\('(.*)'\)$/, '$1');
  const object = dir.objectIndex().get(id.toLowerCase());
  if (!object || object.kind === 'role' || dir.replicating(id)) throw notFound(id);
  if (relation === 'owners' && object.kind !== 'user') throw badRequest('Invalid object identifier. Only users and service principals can be owners.');
  if (object.kind === 'group' && eqi(object.record.id, group.id)) throw badRequest('A group cannot be a member of itself.');
  if (group[relation].some((m) => eqi(m, id))) {
    throw badRequest(`One or more added object references already exist for the following modified properties: '${relation}'.`);
  }
  group[relation].push(dir.objectId(object));
  return ok(204);
}

function removeReference(group: FixtureGroup, relation: Relation, id: string): SimResponse {
  if (!group[relation].some((m) => eqi(m, id))) throw notFound(id);
  group[relation] = group[relation].filter((m) => !eqi(m, id));
  return ok(204);
}

/** `/groups/{id}/{navigation}/…`. */
function groupNavigation(dir: GraphDirectory, call: Call, group: FixtureGroup, navigation: Segment, tail: Segment[]): SimResponse {
  const { method } = call;
  const [third, fourth, ...more] = tail;
  const nav = nameOf(navigation);
  const relation = nav === 'members' ? 'members' : nav === 'owners' ? 'owners' : undefined;
  if (nav === 'transitiveMembers' && fourth === undefined) {
    if (method !== 'GET') throw methodNotAllowed();
    return listObjects(dir, call, `/groups/${group.id}/transitiveMembers`, dir.resolveAll(dir.transitiveMembersOf(group)), third);
  }
  if (!relation) throw segmentNotFound(segmentText(navigation));
  const path = `/groups/${group.id}/${relation}${third !== undefined ? `/${nameOf(third) ?? ''}` : ''}`;
  if (third === '$ref' && fourth === undefined) {
    if (method === 'POST') return addReference(dir, call, group, relation);
    throw methodNotAllowed();
  }
  if (third !== undefined && fourth === '$ref' && more.length === 0) {
    if (method !== 'DELETE') throw methodNotAllowed();
    return removeReference(group, relation, keyOf(third)!.key);
  }
  if (fourth === undefined) {
    if (method !== 'GET') throw methodNotAllowed();
    return listObjects(dir, call, path, dir.resolveAll(group[relation]), third);
  }
  throw segmentNotFound(nameOf(fourth) ?? '');
}

export function groupsRoute(dir: GraphDirectory, call: Call, rest: Segment[]): SimResponse {
  if (rest.length === 0) {
    if (call.method !== 'GET') throw methodNotAllowed();
    return listGroups(dir, call);
  }
  if (rest.length === 1 && isDelta(rest[0])) {
    if (call.method !== 'GET') throw methodNotAllowed();
    return groupsDelta(dir, call);
  }
  const key = keyOf(rest[0])!;
  const group = dir.findGroup(key.key);
  if (!group || dir.replicating(group.id)) throw notFound(key.key);
  const [, navigation, ...tail] = rest;
  if (navigation !== undefined) return groupNavigation(dir, call, group, navigation, tail);
  if (call.method !== 'GET') throw methodNotAllowed();
  const select = parseSelect(call.query);
  return ok(200, { '@odata.context': dir.contextFor('groups', select, true), ...projectGroup(group, select) });
}
