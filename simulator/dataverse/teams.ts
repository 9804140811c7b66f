import { rowsWithId, type Entities, type Entity, type Row } from './entity.js';
import type { DataverseEnvironment } from './environment.js';

/** `teams`: owner teams with their roles and members (a role held through a team counts, U3). */
export function teamsEntity(env: DataverseEnvironment, entities: Entities): Entity {
  const environment = env.environment;
  return {
    set: 'teams', logical: 'team', key: 'teamid',
    columns: [
      'teamid', 'name', '_businessunitid_value', 'teamtype', 'isdefault', 'azureactivedirectoryobjectid', 'membershiptype',
      'description', 'emailaddress', '_administratorid_value', '_queueid_value', 'organizationid', 'systemmanaged',
      'createdon', 'modifiedon', 'versionnumber',
    ],
    rows: () => environment.teams as Row[],
    lookups: { businessunitid: '_businessunitid_value', administratorid: '_administratorid_value' },
    collections: {
      teamroles_association: { target: () => entities.roles, related: (row) => rowsWithId(environment.roles as Row[], 'roleid', row.roles) },
      teammembership_association: { target: () => entities.systemusers, related: (row) => rowsWithId(environment.systemusers as unknown as Row[], 'systemuserid', row.members) },
    },
    value: (row, column) => {
      switch (column) {
        case '_businessunitid_value':
          return env.businessUnitOf(row);
        case 'teamtype':
          return row.teamtype ?? 0;
        case 'membershiptype':
          return row.membershiptype ?? 0;
        case 'isdefault':
        case 'systemmanaged':
          return row[column] ?? false;
        case '_administratorid_value':
          return env.systemId;
        default:
          return env.column(row, column);
      }
    },
  };
}
