import { randomUUID } from 'node:crypto';
import { loadSettings, type Settings } from '../../../lib/config/settings.js';
import type {
  AdminRoleMembers,
  BusinessUnit,
  DirectoryUser,
  Environment,
  GroupMember,
  OrganizationSettings,
  SalesforceOrgSnapshot,
  SecurityRole,
  SubscribedSku,
  SystemUser,
} from '../../../lib/domain/model.js';
import type { DataverseGateway } from '../../../lib/gateways/dataverse/port.js';
import type { DirectoryGateway } from '../../../lib/gateways/graph/port.js';
import type { EnvironmentGateway } from '../../../lib/gateways/powerplatform/port.js';
import type { SalesforceGateway } from '../../../lib/gateways/salesforce/port.js';
import type { AuditRunner } from '../../../lib/audit/runner.js';
import type { AppServices, Steward } from '../../../lib/services.js';
import { CONTOSO, directoryUser, systemUser as buildSystemUser } from '../../support/builders.js';
import { MemoryTables } from './memory-tables.js';

/**
 * A tenant in memory behind the gateway interfaces, for unit tests of the pipeline and the use
 * cases (no HTTP, no simulator). `calls` lists every mutation, so a test can prove nothing changed.
 */

export const ENV = '11111111-1111-4111-8111-111111111111';
export const ENV_NO_DATAVERSE = '22222222-2222-4222-8222-222222222222';
export const GROUP = '33333333-3333-4333-8333-333333333333';
export const SKU_SALES = CONTOSO.sku.sales;
export const SKU_FULL = '44444444-4444-4444-8444-444444444444';
export const ALICE = CONTOSO.user.alice;
export const ROLE_SALES = CONTOSO.salesProd.role.salesperson;
export const ROOT_BU = CONTOSO.salesProd.rootBusinessUnit;
export const ORG = CONTOSO.salesforceOrg;

/** The unit tests' domain records; a row's business unit is the root here. */
export { directoryUser } from '../../support/builders.js';
export const systemUser = (partial: Partial<SystemUser> & { id: string }): SystemUser => buildSystemUser({ businessUnitId: ROOT_BU, ...partial });

/** A short collection answers in one page, read when the caller iterates. */
async function* onePage<T>(items: () => T[]): AsyncIterable<T[]> {
  yield items();
}

export class MemoryTenant {
  users: DirectoryUser[] = [
    directoryUser({ id: ALICE, userPrincipalName: 'alice@contoso.test', displayName: 'Alice Rossi', assignedSkuIds: [SKU_SALES] }),
  ];
  skus: SubscribedSku[] = [
    { skuId: SKU_SALES, skuPartNumber: 'DYN365_ENTERPRISE_SALES', capabilityStatus: 'Enabled', consumedUnits: 1, enabledUnits: 10, suspendedUnits: 0, warningUnits: 0 },
    { skuId: SKU_FULL, skuPartNumber: 'POWERAPPS_PER_USER', capabilityStatus: 'Enabled', consumedUnits: 5, enabledUnits: 5, suspendedUnits: 0, warningUnits: 0 },
  ];
  groups = new Map<string, GroupMember[]>([[GROUP, [{ id: ALICE, kind: 'user', displayName: 'Alice Rossi' }]]]);
  admins: AdminRoleMembers = { globalAdministrator: new Set(), powerPlatformAdministrator: new Set(), dynamics365Administrator: new Set() };
  environments: Environment[] = [
    { id: ENV, displayName: 'Sales Prod', type: 'Production', hasDataverse: true, instanceUrl: 'https://sales.crm.test', securityGroupId: GROUP, passForApps: false, createdBy: null },
    { id: ENV_NO_DATAVERSE, displayName: 'No DB', type: 'Production', hasDataverse: false, instanceUrl: null, securityGroupId: null, passForApps: false, createdBy: null },
  ];
  rows = new Map<string, SystemUser[]>([[ENV, [systemUser({ id: randomUUID(), entraObjectId: ALICE, domainName: 'alice@contoso.test', roleIds: [ROLE_SALES] })]]]);
  roles = new Map<string, SecurityRole[]>([[ENV, [{ id: ROLE_SALES, name: 'Salesperson', businessUnitId: ROOT_BU }, { id: randomUUID(), name: 'Basic User', businessUnitId: ROOT_BU }]]]);
  businessUnits = new Map<string, BusinessUnit[]>([[ENV, [{ id: ROOT_BU, name: 'root', parentId: null }]]]);
  orgSettings = new Map<string, OrganizationSettings>([[ENV, { allowRoleAssignmentOnDisabledUsers: false }]]);
  salesforce = new Map<string, { name: string; snapshot: SalesforceOrgSnapshot }>();
  /** Every mutation, in order. */
  calls: string[] = [];
  /** Makes the named gateway method throw this once per call while set. */
  failures = new Map<string, () => Error>();

  private fail(method: string) {
    const make = this.failures.get(method);
    if (make) throw make();
  }

  user(idOrUpn: string) {
    const wanted = idOrUpn.toLowerCase();
    return this.users.find((u) => u.id.toLowerCase() === wanted || u.userPrincipalName.toLowerCase() === wanted) ?? null;
  }

  rowsOf(environmentId: string) {
    let rows = this.rows.get(environmentId);
    if (!rows) this.rows.set(environmentId, (rows = []));
    return rows;
  }

  directory(): DirectoryGateway {
    return {
      listUsers: async function* (this: void) {},
      getUser: async (idOrUpn) => (this.fail('getUser'), structuredClone(this.user(idOrUpn))),
      findUserByUpn: async (upn) => structuredClone(this.users.find((u) => u.userPrincipalName.toLowerCase() === upn.toLowerCase()) ?? null),
      listSubscribedSkus: () => onePage(() => (this.fail('listSubscribedSkus'), structuredClone(this.skus))),
      getAdminRoleMembers: async () => this.admins,
      getSecurityGroups: async () => new Map(),
      getUserAccessFacts: async () => {
        throw new Error('not used');
      },
      createUser: async (input) => {
        this.fail('createUser');
        this.calls.push(`createUser ${input.userPrincipalName}`);
        const user = directoryUser({
          id: randomUUID(),
          userPrincipalName: input.userPrincipalName,
          displayName: input.displayName,
          givenName: input.givenName ?? null,
          surname: input.surname ?? null,
          jobTitle: input.jobTitle ?? null,
          usageLocation: input.usageLocation ?? null,
        });
        this.users.push(user);
        this.lastPassword = input.password;
        this.lastForceChange = input.forceChangePasswordNextSignIn;
        return structuredClone(user);
      },
      assignLicenses: async (userId, add, remove) => {
        this.fail('assignLicenses');
        this.calls.push(`assignLicenses ${userId} +${add.join(',')} -${remove.join(',')}`);
        const user = this.user(userId)!;
        user.assignedSkuIds = [...user.assignedSkuIds.filter((id) => !remove.includes(id)), ...add];
        for (const id of add) this.skus.find((s) => s.skuId === id)!.consumedUnits++;
        for (const id of remove) this.skus.find((s) => s.skuId === id)!.consumedUnits--;
      },
      addGroupMember: async (groupId, userId) => {
        this.fail('addGroupMember');
        this.calls.push(`addGroupMember ${groupId} ${userId}`);
        this.groups.get(groupId)!.push({ id: userId, kind: 'user', displayName: null });
      },
      removeGroupMember: async (groupId, userId) => {
        this.calls.push(`removeGroupMember ${groupId} ${userId}`);
        this.groups.set(groupId, this.groups.get(groupId)!.filter((m) => m.id !== userId));
        const environment = this.environments.find((e) => e.securityGroupId === groupId);
        const row = environment && this.rowsOf(environment.id).find((r) => r.entraObjectId === userId);
        if (row) row.isDisabled = true;
      },
      listGroupMembers: (groupId) => onePage(() => structuredClone(this.groups.get(groupId) ?? [])),
    };
  }

  lastPassword: string | undefined;
  lastForceChange: boolean | undefined;
  /** When false, addUser leaves the row disabled (the sync is "still running"). */
  addUserEnables = true;

  environmentGateway(): EnvironmentGateway {
    return {
      listEnvironments: () => onePage(() => structuredClone(this.environments)),
      getEnvironment: async (id) => structuredClone(this.environments.find((e) => e.id === id) ?? null),
      addUser: async (environmentId, entraObjectId) => {
        this.fail('addUser');
        this.calls.push(`addUser ${environmentId} ${entraObjectId}`);
        const rows = this.rowsOf(environmentId);
        let row = rows.find((r) => r.entraObjectId === entraObjectId);
        if (!row) {
          row = systemUser({ id: randomUUID(), entraObjectId, isDisabled: !this.addUserEnables });
          rows.push(row);
        } else if (this.addUserEnables) row.isDisabled = false;
      },
    };
  }

  dataverse(): DataverseGateway {
    const rows = (target: { id: string }) => this.rowsOf(target.id);
    return {
      listSystemUsers: async function* (target) {
        yield structuredClone(rows(target));
      },
      findSystemUserByEntraId: async (target, id) => structuredClone(rows(target).find((r) => r.entraObjectId === id) ?? null),
      findSystemUserByApplicationId: async (target, id) => structuredClone(rows(target).find((r) => r.applicationId === id) ?? null),
      findSystemUserByDomainName: async (target, name) => structuredClone(rows(target).find((r) => r.domainName?.toLowerCase() === name.toLowerCase()) ?? null),
      getSystemUser: async (target, id) => structuredClone(rows(target).find((r) => r.id === id) ?? null),
      listTeams: () => onePage(() => []),
      listGroupTeams: () => onePage(() => []),
      listTeamsOfUser: () => onePage(() => []),
      listRoles: (target) => onePage(() => structuredClone(this.roles.get(target.id) ?? [])),
      listBusinessUnits: (target) => onePage(() => structuredClone(this.businessUnits.get(target.id) ?? [])),
      getOrganizationSettings: async (target) => this.orgSettings.get(target.id) ?? { allowRoleAssignmentOnDisabledUsers: false },
      updateSystemUser: async (target, id, update) => {
        this.calls.push(`updateSystemUser ${id} ${JSON.stringify(update)}`);
        const row = rows(target).find((r) => r.id === id)!;
        if (update.accessMode !== undefined) row.accessMode = update.accessMode;
        if (update.disabled !== undefined) row.isDisabled = update.disabled;
      },
      createApplicationUser: async (target, applicationId, businessUnitId) => {
        this.calls.push(`createApplicationUser ${applicationId}`);
        const id = randomUUID();
        rows(target).push(systemUser({ id, applicationId, accessMode: 4, businessUnitId, isLicensed: false }));
        return id;
      },
      assignRole: async (target, systemUserId, roleId) => {
        this.calls.push(`assignRole ${systemUserId} ${roleId}`);
        rows(target).find((r) => r.id === systemUserId)!.roleIds.push(roleId);
      },
    };
  }

  salesforceGateway(): SalesforceGateway {
    return {
      orgIds: () => [...this.salesforce.keys()],
      orgName: (id) => this.salesforce.get(id)?.name ?? null,
      getOrgSnapshot: async (id) => structuredClone(this.salesforce.get(id)!.snapshot),
      getApiLimits: async () => ({ dailyApiRequests: { max: 15_000, remaining: 15_000 } }),
      getUser: async (orgId, userId) => structuredClone(this.salesforce.get(orgId)?.snapshot.integrationUsers.find((u) => u.id === userId) ?? null),
      activateUser: async (orgId, userId) => {
        this.fail('activateUser');
        this.calls.push(`activateUser ${userId}`);
        this.salesforce.get(orgId)!.snapshot.integrationUsers.find((u) => u.id === userId)!.isActive = true;
      },
    };
  }
}

export function memorySettings(overrides: Partial<Settings> = {}): Settings {
  return { ...loadSettings({ STEWARD_TENANT_ID: 'tenant', STEWARD_STORAGE_CONNECTION: 'UseDevelopmentStorage=true' }), ...overrides };
}

export function memoryServices(
  tenant = new MemoryTenant(),
  options: { settings?: Partial<Settings>; now?: () => Date } = {},
): AppServices & { tenant: MemoryTenant; memoryTables: MemoryTables } {
  const memoryTables = new MemoryTables();
  return {
    settings: memorySettings(options.settings),
    directory: tenant.directory(),
    environments: tenant.environmentGateway(),
    dataverse: tenant.dataverse(),
    salesforce: tenant.salesforceGateway(),
    tables: memoryTables.asTables(),
    now: options.now ?? (() => new Date()),
    tenant,
    memoryTables,
  };
}

/**
 * The composed app over memory services, for unit tests of routes that never reach the audit:
 * touching its audit runner fails the test with a message saying so.
 */
export function memoryApp(services: AppServices): Steward {
  const audit = new Proxy({} as AuditRunner, {
    get: (_target, verb) => {
      throw new Error(`memoryApp: this unit test has no audit runner (it asked for audit.${String(verb)})`);
    },
  });
  return { services, audit };
}
