import schema from './schema.json' with { type: 'json' };

/**
 * Column names and constant default values of the Dataverse tables the simulator serves, as the
 * Web API v9.2 returns them for a query without `$select` (`schema.json`, in the answers' order).
 * Names and value types follow the recorded responses in shared/reference (Microsoft's Terraform
 * provider test data, MIT); values that identify a record (ids, names, dates, the P1 profile) are
 * computed by the simulator. Long XML/theme blobs are shortened. Generated once from the
 * recordings; edit by hand.
 */

type Defaults = Readonly<Record<string, unknown>>;

export const SYSTEMUSER_COLUMNS: readonly string[] = schema.systemuser.columns;
export const SYSTEMUSER_DEFAULTS: Defaults = schema.systemuser.defaults;
export const ROLE_COLUMNS: readonly string[] = schema.role.columns;
export const ROLE_DEFAULTS: Defaults = schema.role.defaults;
export const ORGANIZATION_COLUMNS: readonly string[] = schema.organization.columns;
export const ORGANIZATION_DEFAULTS: Defaults = schema.organization.defaults;
