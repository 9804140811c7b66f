import type { Entity } from './entity.js';
import type { DataverseEnvironment } from './environment.js';

/** `businessunits`: the fixture's, or one root unit named after the organization. */
export function businessUnitsEntity(env: DataverseEnvironment): Entity {
  return {
    set: 'businessunits', logical: 'businessunit', key: 'businessunitid',
    columns: [
      'businessunitid', 'name', '_parentbusinessunitid_value', 'isdisabled', 'divisionname', 'description', 'emailaddress',
      'websiteurl', 'costcenter', 'inheritancemask', 'organizationid', '_createdby_value', '_modifiedby_value', 'createdon',
      'modifiedon', 'versionnumber',
    ],
    rows: () => env.businessUnits(),
    lookups: { parentbusinessunitid: '_parentbusinessunitid_value' },
    collections: {},
    value: (row, column) => {
      switch (column) {
        case '_parentbusinessunitid_value':
          return row.parentbusinessunitid ?? null;
        case 'isdisabled':
          return row.isdisabled ?? false;
        case 'inheritancemask':
          return 1023;
        case '_createdby_value':
        case '_modifiedby_value':
          return env.systemId;
        default:
          return env.column(row, column);
      }
    },
  };
}
