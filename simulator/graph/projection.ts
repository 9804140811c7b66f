import type { FixtureGroup, FixtureUser } from '../core/fixture.js';
import { simulatedRoleId, type DirectoryObject, type GraphDirectory, type Role } from './directory.js';
import { badRequest } from './odata.js';
import { GROUP_PROPERTIES, ROLE_PROPERTIES, TYPE_NAMES, USER_ARRAYS, USER_DEFAULT } from './properties.js';
import { canonical, type Json } from './protocol.js';

/**
 * Directory objects as Graph writes them: the selected properties (or the type's default set), a
 * missing collection as `[]` and a missing value as `null`; copies, so that a caller cannot change
 * the state through an answer.
 */

const userValue = (user: FixtureUser, property: string): unknown => {
  const value = (user as Json)[property];
  if (value !== undefined) return value;
  return USER_ARRAYS.has(property) ? [] : null;
};

const groupValue = (group: FixtureGroup, property: string): unknown => {
  const value = (group as Json)[property];
  if (value !== undefined) return value;
  if (property === 'groupTypes') return [];
  if (property === 'mailEnabled' || property === 'isAssignableToRole') return false;
  return null;
};

const roleValue = (role: Role, property: string): unknown => {
  if (property === 'id') return simulatedRoleId(role);
  return (role as Json)[property] ?? null;
};

/** The selected properties a type has, unknown ones left out (mixed collections), or all of them. */
const known = (properties: readonly string[], select: string[] | undefined): string[] =>
  select ? select.map((s) => canonical(properties, s)).filter((p): p is string => !!p) : [...properties];

/** Resolves `$select` for users; an unknown property is a 400, as on Graph. */
export function userSelect(dir: GraphDirectory, select: string[] | undefined): string[] {
  if (!select) return USER_DEFAULT;
  const properties = dir.userProperties();
  return select.map((name) => {
    const property = canonical(properties, name);
    if (!property) throw badRequest(`Could not find a property named '${name}' on type 'microsoft.graph.user'.`);
    return property;
  });
}

export function projectUser(user: FixtureUser, properties: string[]): Json {
  const out: Json = {};
  for (const p of properties) {
    const value = userValue(user, p);
    out[p] = value !== null && typeof value === 'object' ? structuredClone(value) : value;
  }
  return out;
}

const groupFields = (group: FixtureGroup, properties: string[]): Json => {
  const out: Json = {};
  for (const p of properties) out[p] = structuredClone(groupValue(group, p));
  return out;
};

export function projectGroup(group: FixtureGroup, select: string[] | undefined): Json {
  const properties = select
    ? select.map((name) => {
        const p = canonical(GROUP_PROPERTIES, name);
        if (!p) throw badRequest(`Could not find a property named '${name}' on type 'microsoft.graph.group'.`);
        return p;
      })
    : [...GROUP_PROPERTIES];
  return groupFields(group, properties);
}

export function projectRole(role: Role, select: string[] | undefined): Json {
  const out: Json = {};
  for (const p of known(ROLE_PROPERTIES, select)) out[p] = roleValue(role, p);
  return out;
}

/** A directory object in a mixed collection: `@odata.type` first, then the selected properties its type has. */
export function projectObject(dir: GraphDirectory, object: DirectoryObject, select: string[] | undefined): Json {
  const out: Json = { '@odata.type': TYPE_NAMES[object.kind] };
  if (object.kind === 'user') {
    const properties = select ? known(dir.userProperties(), select) : USER_DEFAULT;
    Object.assign(out, projectUser(object.record, properties));
  } else if (object.kind === 'group') {
    Object.assign(out, groupFields(object.record, known(GROUP_PROPERTIES, select)));
  } else {
    Object.assign(out, projectRole(object.record, select));
  }
  return out;
}
