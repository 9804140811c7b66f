import { randomUUID } from 'node:crypto';
import type { SimRequest, SimResponse } from '../core/host.js';
import type { FixtureSystemUser } from '../core/fixture.js';
import { stableId } from '../core/ids.js';
import { applicationUserRecord } from '../core/records.js';
import { SYSTEMUSER_COLUMNS, SYSTEMUSER_DEFAULTS } from './schema.js';
import { DataverseErrorCode, GUID, bindId, dvError, find, isJsonObject, notFound, rowsListing, rowsWithId, same, type Entities, type Entity, type Row } from './entity.js';
import type { DataverseEnvironment } from './environment.js';
import { QUERY_ERROR_CODE } from './odata-query.js';

/**
 * `systemusers`: the table (computed columns as Dataverse answers them), the update a sync or an
 * admin makes (access mode, disabled, the P1 profile) and the creation of an application user (T2).
 */

/** The P1 profile columns an update may set, as strings or null. */
const P1_STRINGS = [
  'domainname', 'firstname', 'lastname', 'title', 'address1_telephone1', 'mobilephone', 'address1_line1', 'address1_city',
  'address1_stateorprovince', 'address1_country', 'fullname', 'internalemailaddress',
];

/** The columns computed from the row's id and content. */
function computedColumn(env: DataverseEnvironment, row: Row, column: string): { value: unknown } | undefined {
  const id = String(row.systemuserid);
  switch (column) {
    case 'systemuserid':
    case 'ownerid':
      return { value: id };
    case '_businessunitid_value':
      return { value: env.businessUnitOf(row) };
    case 'fullname':
      return { value: row.fullname ?? ([row.firstname, row.lastname].filter((p) => typeof p === 'string' && p).join(' ') || null) };
    case 'yomifullname':
      return { value: row.fullname ?? null };
    case 'windowsliveid':
      return { value: row.domainname ?? null };
    case 'address1_addressid':
      return { value: stableId(id, 'address1') };
    case 'address2_addressid':
      return { value: stableId(id, 'address2') };
    case '_calendarid_value':
      return { value: stableId(id, 'calendar') };
    case '_queueid_value':
      return { value: stableId(id, 'queue') };
    case '_defaultmailbox_value':
      return { value: stableId(id, 'mailbox') };
    case 'setupuser':
    case 'isintegrationuser':
      return { value: false };
    case 'issyncwithdirectory':
      return { value: !!row.azureactivedirectoryobjectid && !row.applicationid };
    case 'azurestate':
      return { value: 0 };
    case 'identityid':
      return { value: Number.parseInt(id.replace(/-/g, '').slice(0, 6), 16) % 100_000 };
    case 'userlicensetype':
      return { value: row.islicensed ? 38 : -1 };
    case 'jobtitle':
    case 'yomifirstname':
    case 'yomilastname':
      return { value: row[column] ?? null };
    default:
      return undefined;
  }
}

export function systemUsersEntity(env: DataverseEnvironment, entities: Entities): Entity {
  const environment = env.environment;
  return {
    set: 'systemusers', logical: 'systemuser', key: 'systemuserid',
    columns: SYSTEMUSER_COLUMNS,
    rows: () => environment.systemusers as unknown as Row[],
    lookups: { businessunitid: '_businessunitid_value', parentsystemuserid: '_parentsystemuserid_value' },
    collections: {
      systemuserroles_association: { target: () => entities.roles, related: (row) => rowsWithId(environment.roles as Row[], 'roleid', row.roles) },
      teammembership_association: { target: () => entities.teams, related: (row) => rowsListing(environment.teams as Row[], 'members', row.systemuserid) },
    },
    value: (row, column) => {
      const computed = computedColumn(env, row, column);
      return computed ? computed.value : env.column(row, column, SYSTEMUSER_DEFAULTS);
    },
  };
}

/** The first property of the body a request may not set: unknown to the table, or not writable here. */
function refuseUnknown(entity: Entity, body: Row, allowed: string[]): SimResponse | null {
  for (const name of Object.keys(body)) {
    if (allowed.includes(name)) continue;
    const known = entity.columns.includes(name) || name.endsWith('@odata.bind');
    if (!known) {
      return dvError(
        400,
        QUERY_ERROR_CODE,
        `The property '${name}' does not exist on type 'Microsoft.Dynamics.CRM.${entity.logical}'. Make sure to only use property names that are defined by the type.`,
      );
    }
    return dvError(400, DataverseErrorCode.invalidArgument, `The property '${name}' of '${entity.logical}' cannot be set through this request.`);
  }
  return null;
}

const notAnObject = () => dvError(400, DataverseErrorCode.invalidArgument, 'The request body must be a JSON object.');

/** The types of an update's values: an access mode of 0–5, a boolean, strings or null. */
function checkPatchValues(patch: Row): SimResponse | null {
  if ('accessmode' in patch) {
    const mode = patch.accessmode;
    if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0 || mode > 5) {
      return dvError(
        400,
        DataverseErrorCode.invalidArgument,
        `A validation error occurred. The value ${JSON.stringify(mode)} of 'accessmode' on record of type 'systemuser' is outside the valid range. Accepted Values: 0,1,2,3,4,5`,
      );
    }
  }
  if ('isdisabled' in patch && typeof patch.isdisabled !== 'boolean') {
    return dvError(400, QUERY_ERROR_CODE, `Cannot convert the literal '${String(patch.isdisabled)}' to the expected type 'Edm.Boolean'.`);
  }
  for (const name of P1_STRINGS) {
    if (name in patch && patch[name] !== null && typeof patch[name] !== 'string') {
      return dvError(400, QUERY_ERROR_CODE, `Cannot convert the literal '${String(patch[name])}' to the expected type 'Edm.String'.`);
    }
  }
  return null;
}

export function patchSystemUser(env: DataverseEnvironment, entities: Entities, request: SimRequest, id: string): SimResponse {
  const systemusers = entities.systemusers;
  const row = find(systemusers, id) as (FixtureSystemUser & Row) | undefined;
  // Without `If-Match: *` a PATCH is an upsert in Dataverse; a systemuser cannot be created that
  // way, so both cases answer 404 here.
  if (!row) return notFound(systemusers, id);
  if (!isJsonObject(request.body)) return notAnObject();
  const patch = request.body;
  const refused = refuseUnknown(systemusers, patch, ['accessmode', 'isdisabled', ...P1_STRINGS]) ?? checkPatchValues(patch);
  if (refused) return refused;
  Object.assign(row, patch);
  return { status: 204, headers: env.entityId(systemusers, String(row.systemuserid)) };
}

/** The application id and business unit of a new application user, or the refusal. */
function checkApplicationUser(env: DataverseEnvironment, entities: Entities, input: Row): SimResponse | { applicationId: string; businessUnitId: string } {
  const refused = refuseUnknown(entities.systemusers, input, ['applicationid', 'businessunitid@odata.bind', 'firstname', 'lastname', 'domainname', 'internalemailaddress']);
  if (refused) return refused;
  const applicationId = input.applicationid;
  if (applicationId === undefined || applicationId === null) {
    return dvError(
      400,
      DataverseErrorCode.invalidArgument,
      'A systemuser is created either by the directory sync or as an application user (applicationid); this request has no applicationid.',
    );
  }
  if (typeof applicationId !== 'string' || !GUID.test(applicationId)) {
    return dvError(400, QUERY_ERROR_CODE, `Cannot convert the literal '${String(applicationId)}' to the expected type 'Edm.Guid'.`);
  }
  if (!('businessunitid@odata.bind' in input)) {
    return dvError(400, DataverseErrorCode.invalidArgument, "Attribute 'businessunitid' cannot be NULL: bind a business unit with 'businessunitid@odata.bind'.");
  }
  const businessUnitId = bindId(input['businessunitid@odata.bind'], 'businessunits');
  if (!businessUnitId) {
    return dvError(400, QUERY_ERROR_CODE, `The value '${String(input['businessunitid@odata.bind'])}' of 'businessunitid@odata.bind' is not a valid entity reference.`);
  }
  if (!find(entities.businessunits, businessUnitId)) return notFound(entities.businessunits, businessUnitId);
  if (env.environment.systemusers.some((u) => same(u.applicationid, applicationId))) {
    return dvError(412, DataverseErrorCode.duplicate, `A record with matching key values already exists: an application user with applicationid ${applicationId.toLowerCase()} exists.`);
  }
  return { applicationId, businessUnitId };
}

/** T2: an application user is created with its app id and business unit; it is non-interactive and unlicensed. */
export function createSystemUser(env: DataverseEnvironment, entities: Entities, request: SimRequest): SimResponse {
  if (!isJsonObject(request.body)) return notAnObject();
  const input = request.body;
  const checked = checkApplicationUser(env, entities, input);
  if ('status' in checked) return checked;
  const applicationId = checked.applicationId.toLowerCase();
  const { tenant } = env.ctx.state;
  const lastname = typeof input.lastname === 'string' && input.lastname ? input.lastname : applicationId;
  const address = `${applicationId}@${tenant.defaultDomain}`;
  const row = {
    ...applicationUserRecord({
      systemuserid: randomUUID(),
      domainname: typeof input.domainname === 'string' ? input.domainname : address,
      azureactivedirectoryobjectid: stableId('service-principal', tenant.id, applicationId),
      applicationid: applicationId,
      lastname,
      internalemailaddress: typeof input.internalemailaddress === 'string' ? input.internalemailaddress : address,
    }),
    businessunitid: checked.businessUnitId,
  };
  env.environment.systemusers.push(row as FixtureSystemUser);
  return { status: 204, headers: env.entityId(entities.systemusers, row.systemuserid) };
}
