import { buildLicenseCatalog } from '../domain/licenses.js';
import type { DirectoryUser, Environment } from '../domain/model.js';
import { allPages } from '../gateways/http/pages.js';
import type { AppServices } from '../services.js';
import type { DirectorySnapshot, EnvironmentData } from './snapshot.js';

/**
 * Collection: the least the checks need, in full pages, with no per-user calls.
 * The directory is read once per run and shared by every environment's checks.
 */

export async function discoverEnvironments(services: AppServices): Promise<Environment[]> {
  const all = await allPages(services.environments.listEnvironments());
  const allow = services.settings.environmentAllowList;
  return allow && allow.length > 0 ? all.filter((e) => allow.includes(e.id)) : all;
}

export async function collectDirectory(services: AppServices, environments: readonly Environment[]): Promise<DirectorySnapshot> {
  const { directory, settings } = services;
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
    catalog: buildLicenseCatalog(skus, settings),
    adminRoles,
    groups,
  };
}

export async function collectEnvironment(services: AppServices, environment: Environment): Promise<EnvironmentData> {
  const target = { id: environment.id, instanceUrl: environment.instanceUrl };
  const systemUsersPromise = (async () => {
    const rows = [];
    for await (const page of services.dataverse.listSystemUsers(target)) rows.push(...page);
    return rows;
  })();
  const [systemUsers, teams] = await Promise.all([systemUsersPromise, allPages(services.dataverse.listTeams(target))]);
  return { environment, systemUsers, teams };
}
