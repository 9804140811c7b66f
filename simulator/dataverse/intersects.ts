import { stableId } from '../core/ids.js';
import type { Entity, Row } from './entity.js';
import type { DataverseEnvironment } from './environment.js';

/**
 * `systemuserrolescollection`: the intersect table of the `systemuserroles_association`
 * many-to-many relationship (one row per role given directly to a user), readable through the Web
 * API like any table and change-tracked (the intersect tables of system relationships are, which is
 * how Azure Synapse Link exports them). A role given or taken away is a row created or deleted here,
 * not a change of the systemuser row. Rows are derived from each systemuser's `roles`, with a
 * stable id per pair.
 */
export function systemUserRolesEntity(env: DataverseEnvironment): Entity {
  const environment = env.environment;
  // Each pair's row, made (and its id hashed) once: rows are derived again at every request.
  const byPair = new Map<unknown, Map<unknown, Row>>();
  const rowOf = (systemuserid: unknown, roleid: unknown): Row => {
    let ofUser = byPair.get(systemuserid);
    if (!ofUser) byPair.set(systemuserid, (ofUser = new Map()));
    let row = ofUser.get(roleid);
    if (!row) ofUser.set(roleid, (row = { systemuserroleid: stableId(String(systemuserid).toLowerCase(), String(roleid).toLowerCase()), systemuserid, roleid }));
    return row;
  };
  const rows = (): Row[] => environment.systemusers.flatMap((user) => (user.roles ?? []).map((roleid) => rowOf(user.systemuserid, roleid)));
  return {
    set: 'systemuserrolescollection', logical: 'systemuserroles', key: 'systemuserroleid',
    columns: ['systemuserroleid', 'systemuserid', 'roleid', 'versionnumber'],
    rows,
    lookups: {},
    collections: {},
    value: (row, column) => env.column(row, column),
    // An intersect row never changes: it is created or deleted.
    version: () => 1,
  };
}
