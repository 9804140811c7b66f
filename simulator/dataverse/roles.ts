import { stableId } from '../core/ids.js';
import { ROLE_COLUMNS, ROLE_DEFAULTS } from './schema.js';
import { rowsListing, type Entities, type Entity, type Row } from './entity.js';
import type { DataverseEnvironment } from './environment.js';

/** `roles`: security roles, with the users and teams that hold each. */
export function rolesEntity(env: DataverseEnvironment, entities: Entities): Entity {
  const environment = env.environment;
  return {
    set: 'roles', logical: 'role', key: 'roleid',
    columns: ROLE_COLUMNS,
    rows: () => environment.roles as Row[],
    lookups: { businessunitid: '_businessunitid_value', parentrootroleid: '_parentrootroleid_value' },
    collections: {
      systemuserroles_association: { target: () => entities.systemusers, related: (row) => rowsListing(environment.systemusers as unknown as Row[], 'roles', row.roleid) },
      teamroles_association: { target: () => entities.teams, related: (row) => rowsListing(environment.teams as Row[], 'roles', row.roleid) },
    },
    value: (row, column) => {
      const id = String(row.roleid);
      switch (column) {
        case 'roleid':
        case '_parentrootroleid_value':
          return id;
        case 'name':
          return row.name;
        case '_businessunitid_value':
          return env.businessUnitOf(row);
        case 'roleidunique':
          return stableId(id, 'unique');
        case 'solutionid':
          return stableId('solution', (row.ismanaged ?? true) ? 'System' : 'Active');
        case 'ismanaged':
          return row.ismanaged ?? true;
        case '_createdby_value':
        case '_modifiedby_value':
          return env.systemId;
        default:
          return env.column(row, column, ROLE_DEFAULTS);
      }
    },
  };
}
