import { CHECK_CATALOGUE } from '../domain/check-catalogue.js';
import { NotFoundError, type MissingThing } from '../domain/errors.js';
import type { Environment, SecurityRole, SystemUser } from '../domain/model.js';
import { allPages } from '../gateways/http/pages.js';
import { requireDataverse, requireEnvironment } from '../operations/lookups.js';
import type { AppServices } from '../services.js';
import { closestNames } from './closest-names.js';

/**
 * What an admin picks from: the environments, the users and roles of one environment, the
 * Salesforce orgs and the audit's checks. The HTTP list operations (the connector's pickers) and
 * `steward list` both read these, and the CLI resolves names typed by an admin through them.
 */

export interface EnvironmentSummary {
  id: string;
  displayName: string;
  type: string;
  hasDataverse: boolean;
  instanceUrl: string | null;
  securityGroupId: string | null;
  /** False when STEWARD_ENVIRONMENTS leaves it out of audits. */
  audited: boolean;
}

export interface EnvironmentUserSummary {
  systemUserId: string;
  fullName: string | null;
  domainName: string | null;
  entraObjectId: string | null;
  applicationId: string | null;
  accessMode: number;
  isDisabled: boolean;
}

export interface RoleSummary {
  roleId: string;
  name: string;
  businessUnitId: string | null;
}

export interface SalesforceOrgSummary {
  orgId: string;
  name: string;
  loginUrl: string;
}

export interface CheckSummary {
  id: string;
  target: string;
  severities: readonly string[];
  factIds: readonly string[];
  title: string;
}

function environmentSummary(environment: Environment, allowList: readonly string[] | undefined): EnvironmentSummary {
  return {
    id: environment.id,
    displayName: environment.displayName,
    type: environment.type,
    hasDataverse: environment.hasDataverse,
    instanceUrl: environment.instanceUrl,
    securityGroupId: environment.securityGroupId,
    audited: !allowList || allowList.includes(environment.id),
  };
}

export async function listEnvironments(services: AppServices): Promise<EnvironmentSummary[]> {
  const environments = await allPages(services.environments.listEnvironments());
  return environments
    .map((environment) => environmentSummary(environment, services.settings.environmentAllowList))
    .sort((a, b) => a.displayName.localeCompare(b.displayName));
}

function userSummary(row: SystemUser): EnvironmentUserSummary {
  return {
    systemUserId: row.id,
    fullName: row.fullName,
    domainName: row.domainName,
    entraObjectId: row.entraObjectId,
    applicationId: row.applicationId,
    accessMode: row.accessMode,
    isDisabled: row.isDisabled,
  };
}

/** The environment's systemuser rows (D1), by name; `search` keeps those whose name or UPN holds it. */
export async function listEnvironmentUsers(
  services: AppServices,
  environmentId: string,
  search?: string,
): Promise<EnvironmentUserSummary[]> {
  const target = requireDataverse(await requireEnvironment(services, environmentId));
  const rows = await allPages(services.dataverse.listSystemUsers(target));
  const needle = search?.toLowerCase();
  return rows
    .map(userSummary)
    .filter((row) => !needle || [row.fullName, row.domainName].some((v) => v?.toLowerCase().includes(needle)))
    .sort((a, b) => (a.fullName ?? a.domainName ?? '').localeCompare(b.fullName ?? b.domainName ?? ''));
}

function roleSummary(role: SecurityRole): RoleSummary {
  return { roleId: role.id, name: role.name, businessUnitId: role.businessUnitId };
}

export async function listEnvironmentRoles(services: AppServices, environmentId: string): Promise<RoleSummary[]> {
  const target = requireDataverse(await requireEnvironment(services, environmentId));
  const roles = await allPages(services.dataverse.listRoles(target));
  return roles.map(roleSummary).sort((a, b) => a.name.localeCompare(b.name));
}

/** The orgs of STEWARD_SALESFORCE_ORGS: Steward reaches only those it has a connected app for. */
export function listSalesforceOrgs(services: AppServices): SalesforceOrgSummary[] {
  return services.settings.salesforceOrgs.map((org) => ({ orgId: org.id, name: org.name, loginUrl: org.loginUrl }));
}

export function listChecks(): CheckSummary[] {
  return CHECK_CATALOGUE.map((check) => ({
    id: check.id,
    target: check.target,
    severities: check.severities,
    factIds: check.factIds,
    title: check.title,
  }));
}

/**
 * The one item whose id or name is `reference`, case-insensitively; otherwise a NotFoundError that
 * names the closest names, so an admin who typed 'Sales Prod' learns it is 'Sales Production'.
 */
export function pickByIdOrName<T>(
  kind: MissingThing,
  noun: string,
  reference: string,
  items: readonly T[],
  keys: (item: T) => (string | null | undefined)[],
  label: (item: T) => string,
): T {
  const wanted = reference.trim().toLowerCase();
  const matches = items.filter((item) => keys(item).some((key) => key?.toLowerCase() === wanted));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new NotFoundError(kind, reference, `'${reference}' names ${matches.length} ${noun}s: ${matches.map(label).join(', ')}; use the id.`);
  }
  const suggestions = closestNames(reference, items.map(label));
  const hint = suggestions.length ? ` Closest: ${suggestions.join(', ')}.` : '';
  throw new NotFoundError(kind, reference, `No ${noun} '${reference}'.${hint}`);
}

export async function resolveEnvironment(services: AppServices, reference: string): Promise<EnvironmentSummary> {
  return pickByIdOrName(
    'environment',
    'environment',
    reference,
    await listEnvironments(services),
    (e) => [e.id, e.displayName],
    (e) => `${e.displayName} (${e.id})`,
  );
}

export function resolveSalesforceOrg(services: AppServices, reference: string): SalesforceOrgSummary {
  return pickByIdOrName(
    'org',
    'Salesforce org',
    reference,
    listSalesforceOrgs(services),
    // An 18-character org id begins with its 15-character form.
    (o) => [o.orgId, o.orgId.slice(0, 15), o.name],
    (o) => `${o.name} (${o.orgId})`,
  );
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What diagnose takes for a user an admin typed: a UPN or an object id is looked up in the
 * directory (an object id Entra no longer knows may still have a row: a deleted user, D4.1); a
 * display name, or anything else, is looked up among the environment's systemusers. Unknown: a
 * NotFoundError naming the closest of the environment's users.
 */
export async function resolveEnvironmentUser(services: AppServices, environmentId: string, reference: string): Promise<string> {
  const typed = reference.trim();
  if (GUID.test(typed) || typed.includes('@')) {
    const user = await services.directory.getUser(typed);
    if (user) return user.id;
  }
  const environment = await requireEnvironment(services, environmentId);
  const rows = environment.hasDataverse ? await listEnvironmentUsers(services, environmentId) : [];
  // People synced from Entra (a deleted one's row keeps its object id); not application, stub or support rows.
  const people = rows.filter((row) => !row.applicationId && row.entraObjectId);
  const row = pickByIdOrName(
    'user',
    'user',
    typed,
    people,
    (r) => [r.entraObjectId, r.systemUserId, r.domainName, r.fullName],
    (r) => (r.domainName ? `${r.domainName}${r.fullName ? ` (${r.fullName})` : ''}` : (r.fullName ?? r.systemUserId)),
  );
  return row.entraObjectId ?? row.domainName ?? row.systemUserId;
}
