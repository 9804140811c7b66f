import pLimit from 'p-limit';
import type {
  AdminRoleMembers,
  BusinessUnit,
  DataverseTeam,
  DirectoryUser,
  Environment,
  OrganizationSettings,
  SalesforceOrgSnapshot,
  SecurityGroup,
  SecurityRole,
  SubscribedSku,
  SystemUser,
} from '../domain/model.js';
import type { DataverseGateway } from '../gateways/dataverse/port.js';
import type { DirectoryGateway } from '../gateways/graph/port.js';
import { allPages } from '../gateways/http/pages.js';
import type { EnvironmentGateway } from '../gateways/powerplatform/port.js';
import type { SalesforceGateway } from '../gateways/salesforce/port.js';

/**
 * `steward snapshot` (SPEC §6): what the audit, diagnose and readiness read of a tenant, read through
 * the same gateways and only read. Nothing here knows about fixtures or the simulator: the same
 * reading runs against a real tenant.
 */

/** What the snapshot reads, and only reads (no method here changes the tenant). */
export interface SnapshotSources {
  environments: Pick<EnvironmentGateway, 'listEnvironments'>;
  directory: Pick<DirectoryGateway, 'listUsers' | 'listSubscribedSkus' | 'getAdminRoleMembers' | 'getSecurityGroups'>;
  dataverse: Pick<DataverseGateway, 'listSystemUsers' | 'listTeams' | 'listRoles' | 'listBusinessUnits' | 'getOrganizationSettings'>;
  salesforce: Pick<SalesforceGateway, 'orgIds' | 'orgName' | 'getOrgSnapshot'>;
}

export interface EnvironmentSnapshot {
  environment: Environment;
  /** Empty without Dataverse (D3). */
  systemUsers: SystemUser[];
  teams: DataverseTeam[];
  roles: SecurityRole[];
  businessUnits: BusinessUnit[];
  organizationSettings: OrganizationSettings | null;
}

export interface SalesforceOrgRead {
  name: string;
  snapshot: SalesforceOrgSnapshot;
}

export interface TenantSnapshot {
  tenantId: string;
  users: DirectoryUser[];
  skus: SubscribedSku[];
  adminRoles: AdminRoleMembers;
  /** The environments' security groups and every group nested in them (E4, diagnose's nesting). */
  groups: SecurityGroup[];
  environments: EnvironmentSnapshot[];
  salesforceOrgs: SalesforceOrgRead[];
}

/**
 * `concurrency` environments and orgs are read at a time (`STEWARD_MAX_CONCURRENCY`, as the audit's
 * targets); each gateway bounds its own calls in flight besides.
 */
export async function readTenant(sources: SnapshotSources, tenantId: string, options: { concurrency: number }): Promise<TenantSnapshot> {
  const environmentList = await allPages(sources.environments.listEnvironments());
  const groupIds = environmentList.map((e) => e.securityGroupId).filter((id): id is string => !!id);
  const limit = pLimit(Math.max(1, options.concurrency));
  const [users, skus, adminRoles, groups, environments, salesforceOrgs] = await Promise.all([
    allPages(sources.directory.listUsers()),
    allPages(sources.directory.listSubscribedSkus()),
    sources.directory.getAdminRoleMembers(),
    readGroupsWithNesting(sources.directory, groupIds),
    Promise.all(environmentList.map((environment) => limit(() => readEnvironment(sources.dataverse, environment)))),
    Promise.all(sources.salesforce.orgIds().map((orgId) => limit(() => readOrg(sources.salesforce, orgId)))),
  ]);
  return { tenantId, users, skus, adminRoles, groups, environments, salesforceOrgs };
}

/**
 * The groups named, then the groups among their members, level by level until none is new: a user
 * reached through nesting (E4) is then in the snapshot as the directory has them.
 */
async function readGroupsWithNesting(directory: SnapshotSources['directory'], groupIds: string[]): Promise<SecurityGroup[]> {
  const found = new Map<string, SecurityGroup>();
  let wanted = [...new Set(groupIds)];
  while (wanted.length > 0) {
    const groups = await directory.getSecurityGroups(wanted);
    for (const group of groups.values()) found.set(group.id, group);
    const next = new Set<string>();
    for (const group of groups.values()) {
      for (const member of group.members) if (member.kind === 'group' && !found.has(member.id)) next.add(member.id);
    }
    // An id the directory does not return is not asked again (it would loop).
    for (const id of wanted) if (!found.has(id)) next.delete(id);
    wanted = [...next];
  }
  return [...found.values()];
}

async function readEnvironment(dataverse: SnapshotSources['dataverse'], environment: Environment): Promise<EnvironmentSnapshot> {
  if (!environment.hasDataverse || !environment.instanceUrl) {
    return { environment, systemUsers: [], teams: [], roles: [], businessUnits: [], organizationSettings: null };
  }
  const target = { id: environment.id, instanceUrl: environment.instanceUrl };
  const [systemUsers, teams, roles, businessUnits, organizationSettings] = await Promise.all([
    allPages(dataverse.listSystemUsers(target)),
    allPages(dataverse.listTeams(target)),
    allPages(dataverse.listRoles(target)),
    allPages(dataverse.listBusinessUnits(target)),
    dataverse.getOrganizationSettings(target),
  ]);
  return { environment, systemUsers, teams, roles, businessUnits, organizationSettings };
}

async function readOrg(salesforce: SnapshotSources['salesforce'], orgId: string): Promise<SalesforceOrgRead> {
  return { name: salesforce.orgName(orgId) ?? orgId, snapshot: await salesforce.getOrgSnapshot(orgId) };
}
