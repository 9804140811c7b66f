import type { SimRequest, SimResponse } from '../core/host.js';
import { json } from '../core/host.js';
import { stableId } from '../core/ids.js';
import { ORGANIZATION_COLUMNS, ORGANIZATION_DEFAULTS } from './schema.js';
import { ODATA_VERSION, type Entity } from './entity.js';
import type { DataverseEnvironment } from './environment.js';

/** `organizations` (one row, with `orgdborgsettings` from the fixture's `orgSettings`) and `WhoAmI`. */

const xmlEscape = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The settings a fresh organization carries in `orgdborgsettings` (as in the recorded response). */
const BASE_ORG_SETTINGS: [string, string][] = [
  ['IsCommandingModifiedOnEnabled', 'true'],
  ['IsLinkToFabricEnabled', 'true'],
  ['IsFabricVirtualTableEnabled', 'true'],
  ['CanCreateApplicationStubUser', 'false'],
  ['EnableActivitiesTimeLinePerfImprovement', '1'],
  ['EnableActivitiesFeatures', '1'],
  ['IsRetentionEnabled', 'true'],
  ['IsArchivalEnabled', 'true'],
];

export function orgDbOrgSettingsXml(orgSettings: Record<string, unknown>): string {
  const settings = new Map(BASE_ORG_SETTINGS);
  for (const [name, value] of Object.entries(orgSettings)) {
    if (!/^[A-Za-z_][\w]*$/.test(name)) continue;
    settings.set(name, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return `<OrgSettings>${[...settings].map(([n, v]) => `<${n}>${xmlEscape(v)}</${n}>`).join('')}</OrgSettings>`;
}

/** E5: whether `orgdborgsettings` lets a role be given to a disabled user. */
export function allowsRoleAssignmentOnDisabledUsers(orgSettings: Record<string, unknown>): boolean {
  return /<AllowRoleAssignmentOnDisabledUsers>\s*true\s*<\/AllowRoleAssignmentOnDisabledUsers>/i.test(orgDbOrgSettingsXml(orgSettings));
}

/** The records an organization refers to, each with a stable id of its own. */
const REFERENCES = new Map([
  ['_basecurrencyid_value', 'currency'],
  ['businessclosurecalendarid', 'calendar'],
  ['_defaultemailserverprofileid_value', 'email-server-profile'],
  ['integrationuserid', 'integration-user'],
  ['delegatedadminuserid', 'delegated-admin'],
  ['supportuserid', 'support-user'],
]);

export function organizationsEntity(env: DataverseEnvironment): Entity {
  const { orgId, orgRow, environment } = env;
  // Its version moves with its settings too.
  const version = () => env.versionOf(orgRow, environment.orgSettings);
  return {
    set: 'organizations', logical: 'organization', key: 'organizationid',
    columns: ORGANIZATION_COLUMNS,
    rows: () => [orgRow],
    lookups: { basecurrencyid: '_basecurrencyid_value' },
    collections: {},
    version: () => version().version,
    value: (_row, column) => {
      const reference = REFERENCES.get(column);
      if (reference) return stableId(orgId, reference);
      switch (column) {
        case 'name':
          return env.orgName;
        case 'orgdborgsettings':
          return orgDbOrgSettingsXml(environment.orgSettings);
        case 'languagecode':
          return 1033;
        case 'systemuserid':
        case '_modifiedby_value':
          return env.systemId;
        case 'modifiedon':
          return version().modifiedOn;
        case 'versionnumber':
          return version().version;
        default:
          return env.column(orgRow, column, ORGANIZATION_DEFAULTS);
      }
    },
  };
}

export function whoAmI(env: DataverseEnvironment, request: SimRequest): SimResponse {
  return json(
    200,
    {
      '@odata.context': `${env.api()}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
      BusinessUnitId: env.rootBusinessUnitId(),
      UserId: stableId('application-user', env.envId, request.clientId ?? 'anonymous'),
      OrganizationId: env.orgId,
    },
    { ...ODATA_VERSION },
  );
}
