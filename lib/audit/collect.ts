import { buildLicenseCatalog, type LicenseSettings } from '../domain/licenses.js';
import { isGroupTeam } from '../domain/group-teams.js';
import type { DirectoryUser, Environment, SecurityGroup } from '../domain/model.js';
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
  let signInActivityAvailable = true;
  const usersPromise = (async () => {
    const users = new Map<string, DirectoryUser>();
    const options = { onSignInActivityRefused: () => void (signInActivityAvailable = false) };
    for await (const page of directory.listUsers(options)) for (const user of page) users.set(user.id, user);
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
    skus,
    catalog: buildLicenseCatalog(skus, licenseSettings),
    adminRoles,
    groups,
    signInActivityAvailable,
  };
}

/**
 * One environment's rows and teams, and the Entra groups of its group teams (U4). Those groups are
 * known only once the teams are read, so they are fetched here, in one `$batch` with every group's
 * members and owners, and only when the environment has group teams with roles whose group the
 * directory snapshot does not already hold (an environment's security group): a tenant without
 * group teams pays nothing more.
 */
export async function collectEnvironment(
  sources: Pick<AuditSources, 'dataverse' | 'directory'>,
  environment: Environment,
  knownGroups: ReadonlyMap<string, SecurityGroup> = new Map(),
): Promise<EnvironmentData> {
  const target = { id: environment.id, instanceUrl: environment.instanceUrl };
  const systemUsersPromise = (async () => {
    const rows = [];
    for await (const page of sources.dataverse.listSystemUsers(target)) rows.push(...page);
    return rows;
  })();
  const [systemUsers, teams] = await Promise.all([systemUsersPromise, allPages(sources.dataverse.listTeams(target))]);
  const groupTeamGroups = new Map<string, SecurityGroup>();
  const wanted = new Set<string>();
  for (const team of teams) {
    if (!isGroupTeam(team) || team.roleIds.length === 0) continue;
    const id = team.groupId.toLowerCase();
    const known = [...knownGroups].find(([key]) => key.toLowerCase() === id)?.[1];
    if (known) groupTeamGroups.set(id, known);
    else wanted.add(id);
  }
  if (wanted.size > 0) {
    for (const [id, group] of await sources.directory.getSecurityGroups([...wanted])) groupTeamGroups.set(id.toLowerCase(), group);
  }
  return { environment, systemUsers, teams, groupTeamGroups };
}
