import type { LicenseCatalog } from '../domain/licenses.js';
import type { MonthlyPrice } from '../domain/money.js';
import type { AdminRole, AdminRoleMembers, DataverseTeam, DirectoryUser, Environment, SecurityGroup, SubscribedSku, SystemUser } from '../domain/model.js';

/** What a run reads of the directory once (the tenant target), shared by every environment's checks. */
export interface DirectorySnapshot {
  users: Map<string, DirectoryUser>;
  catalog: LicenseCatalog;
  adminRoles: AdminRoleMembers;
  /** The environments' security groups with direct members and owners. */
  groups: Map<string, SecurityGroup>;
  /** The tenant's subscriptions (L4). */
  skus: SubscribedSku[];
  /** L2: false when Graph refused `signInActivity` (the users were read without it). */
  signInActivityAvailable: boolean;
  /** What the environments' checks read of it, as a key (lib/audit/inputs-key.ts); set when its changes are tracked. */
  inputsKey?: string;
}

/** The directory without its users: what collecting an environment and the inputs keys read. */
export type DirectoryHead = Omit<DirectorySnapshot, 'users'>;

/**
 * The directory as the start of a run read it: its head at once, its users when a check needs
 * them. On a night without directory changes they are read back from the state kept by the last
 * run only if an environment's or the tenant's checks must run again (SPEC §9, cost proportional
 * to change).
 */
export interface DirectoryRead {
  head: DirectoryHead;
  users(): Promise<Map<string, DirectoryUser>>;
}

/** A directory read in full (or with its changes applied): its users are already here. */
export function directoryRead(snapshot: DirectorySnapshot): DirectoryRead {
  const { users, ...head } = snapshot;
  return { head, users: () => Promise.resolve(users) };
}

/** What a run reads of one environment. */
export interface EnvironmentData {
  environment: Environment;
  systemUsers: SystemUser[];
  teams: DataverseTeam[];
  /** U4: the Entra groups of the environment's group teams (direct members and owners), by lower-case id. */
  groupTeamGroups?: Map<string, SecurityGroup>;
}

/** Per environment, what the cross-environment check needs (kept in storage between fan-out steps). */
export interface EnvironmentUserSummary {
  environmentId: string;
  /** Entra object ids of the regular rows that are enabled, and of those that are disabled. */
  enabled: string[];
  disabled: string[];
}

const NO_ADMIN_ROLES: ReadonlySet<AdminRole> = new Set();
/** Per snapshot, each administrator's roles: an environment asks about each of its thousands of rows. */
const rolesByUser = new WeakMap<AdminRoleMembers, Map<string, Set<AdminRole>>>();

export function adminRolesOf(snapshot: Pick<DirectorySnapshot, 'adminRoles'>, userId: string): ReadonlySet<AdminRole> {
  let byUser = rolesByUser.get(snapshot.adminRoles);
  if (!byUser) {
    byUser = new Map();
    for (const [role, members] of Object.entries(snapshot.adminRoles) as [AdminRole, Set<string>][]) {
      for (const member of members) byUser.set(member, (byUser.get(member) ?? new Set<AdminRole>()).add(role));
    }
    rolesByUser.set(snapshot.adminRoles, byUser);
  }
  return byUser.get(userId) ?? NO_ADMIN_ROLES;
}

// ── Claim-check serialisation: a snapshot travels through storage as JSON ─────────────────────

export interface DirectorySnapshotJson {
  users: DirectoryUser[];
  catalog: {
    partNumbers: [string, string][];
    environmentSkuIds: string[];
    freeDataversePlanSkuIds: string[];
    marketingTenantLicense: boolean;
    prices?: [string, MonthlyPrice][];
  };
  adminRoles: Record<AdminRole, string[]>;
  groups: SecurityGroup[];
  skus: SubscribedSku[];
  signInActivityAvailable: boolean;
  inputsKey?: string;
}

export function directoryToJson(s: DirectorySnapshot): DirectorySnapshotJson {
  return {
    users: [...s.users.values()],
    catalog: {
      partNumbers: [...s.catalog.partNumbers],
      environmentSkuIds: [...s.catalog.environmentSkuIds],
      freeDataversePlanSkuIds: [...s.catalog.freeDataversePlanSkuIds],
      marketingTenantLicense: s.catalog.marketingTenantLicense,
      prices: [...s.catalog.prices],
    },
    adminRoles: {
      globalAdministrator: [...s.adminRoles.globalAdministrator],
      powerPlatformAdministrator: [...s.adminRoles.powerPlatformAdministrator],
      dynamics365Administrator: [...s.adminRoles.dynamics365Administrator],
    },
    groups: [...s.groups.values()],
    skus: s.skus,
    signInActivityAvailable: s.signInActivityAvailable,
    ...(s.inputsKey !== undefined ? { inputsKey: s.inputsKey } : {}),
  };
}

export function directoryFromJson(j: DirectorySnapshotJson): DirectorySnapshot {
  return {
    users: new Map(j.users.map((u) => [u.id, u])),
    catalog: {
      partNumbers: new Map(j.catalog.partNumbers),
      environmentSkuIds: new Set(j.catalog.environmentSkuIds),
      freeDataversePlanSkuIds: new Set(j.catalog.freeDataversePlanSkuIds),
      marketingTenantLicense: j.catalog.marketingTenantLicense,
      prices: new Map(j.catalog.prices ?? []),
    },
    adminRoles: {
      globalAdministrator: new Set(j.adminRoles.globalAdministrator),
      powerPlatformAdministrator: new Set(j.adminRoles.powerPlatformAdministrator),
      dynamics365Administrator: new Set(j.adminRoles.dynamics365Administrator),
    },
    groups: new Map(j.groups.map((g) => [g.id, g])),
    skus: j.skus ?? [],
    signInActivityAvailable: j.signInActivityAvailable ?? true,
    ...(j.inputsKey !== undefined ? { inputsKey: j.inputsKey } : {}),
  };
}
