import { buildLicenseCatalog, type LicenseSettings } from '../domain/licenses.js';
import type { DirectoryUser, Environment } from '../domain/model.js';
import type { DataverseGateway } from '../gateways/dataverse/port.js';
import type { DirectoryGateway } from '../gateways/graph/port.js';
import { allPages } from '../gateways/http/pages.js';
import type { EnvironmentGateway } from '../gateways/powerplatform/port.js';
import type { SalesforceGateway } from '../gateways/salesforce/port.js';
import type { DirectorySnapshot, EnvironmentData } from './snapshot.js';

/**
 * Collection: the least the checks need, in full pages, with no per-user calls.
 * The directory is read once per run and shared by every environment's checks.
 */

/** What the audit reads, and only reads, of the services it audits. */
export interface AuditSources {
  environments: Pick<EnvironmentGateway, 'listEnvironments'>;
  directory: Pick<DirectoryGateway, 'listUsers' | 'listSubscribedSkus' | 'getAdminRoleMembers' | 'getSecurityGroups'>;
  dataverse: Pick<DataverseGateway, 'listSystemUsers' | 'listTeams'>;
  salesforce: Pick<SalesforceGateway, 'orgIds' | 'orgName' | 'getOrgSnapshot'>;
}

/** Every environment of the tenant, or those of the allow-list (STEWARD_ENVIRONMENTS) when there is one. */
export async function discoverEnvironments(gateway: AuditSources['environments'], allowList: readonly string[] | undefined): Promise<Environment[]> {
  const all = await allPages(gateway.listEnvironments());
  return allowList && allowList.length > 0 ? all.filter((e) => allowList.includes(e.id)) : all;
}

export async function collectDirectory(
  directory: AuditSources['directory'],
  environments: readonly Environment[],
  licenseSettings: LicenseSettings,
): Promise<DirectorySnapshot> {
  const groupIds = [...new Set(environments.map((e) => e.securityGroupId).filter((id): id is string => !!id))];
  const usersPromise = (async () => {
    const users = new Map<string, DirectoryUser>();
    for await (const page of directory.listUsers()) for (const user of page) users.set(user.id, user);
    return users;
  })();
  const [users, skus, adminRoles, groups] = await Promise.all([
    usersPromise,
    allPages(directory.listSubscribedSkus()),
    directory.getAdminRoleMembers(),
    directory.getSecurityGroups(groupIds),
  ]);
  return {
    users,
    catalog: buildLicenseCatalog(skus, licenseSettings),
    adminRoles,
    groups,
  };
}

export async function collectEnvironment(dataverse: AuditSources['dataverse'], environment: Environment): Promise<EnvironmentData> {
  const target = { id: environment.id, instanceUrl: environment.instanceUrl };
  const systemUsersPromise = (async () => {
    const rows = [];
    for await (const page of dataverse.listSystemUsers(target)) rows.push(...page);
    return rows;
  })();
  const [systemUsers, teams] = await Promise.all([systemUsersPromise, allPages(dataverse.listTeams(target))]);
  return { environment, systemUsers, teams };
}
