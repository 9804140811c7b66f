import type {
  BusinessUnit,
  DataverseTeam,
  Environment,
  OrganizationSettings,
  SecurityRole,
  SystemUser,
} from '../../domain/model.js';

/** An environment's Dataverse database is addressed by its id and instance URL. */
export type DataverseTarget = Pick<Environment, 'id' | 'instanceUrl'>;

export interface SystemUserPatch {
  accessmode?: number;
  isdisabled?: boolean;
}

/** The Dataverse Web API v9.2 of one environment at a time. */
export interface DataverseGateway {
  /**
   * Every systemuser with its directly assigned role ids, a page at a time as Dataverse answers
   * (5,000, `Prefer: odata.maxpagesize`): an environment's 5,000 rows are one step for the
   * consumer, not 5,000 awaits.
   */
  listSystemUsers(target: DataverseTarget): AsyncIterable<SystemUser[]>;
  /** The row of one Entra user (by object id), with its roles; null when none. */
  findSystemUserByEntraId(target: DataverseTarget, entraObjectId: string): Promise<SystemUser | null>;
  findSystemUserByApplicationId(target: DataverseTarget, applicationId: string): Promise<SystemUser | null>;
  getSystemUser(target: DataverseTarget, systemUserId: string): Promise<SystemUser | null>;
  /** Teams with their roles and members (U3: a role through a team counts). */
  listTeams(target: DataverseTarget): Promise<DataverseTeam[]>;
  /** Teams of one user, with their roles. */
  listTeamsOfUser(target: DataverseTarget, systemUserId: string): Promise<DataverseTeam[]>;
  listRoles(target: DataverseTarget): Promise<SecurityRole[]>;
  listBusinessUnits(target: DataverseTarget): Promise<BusinessUnit[]>;
  getOrganizationSettings(target: DataverseTarget): Promise<OrganizationSettings>;
  updateSystemUser(target: DataverseTarget, systemUserId: string, patch: SystemUserPatch): Promise<void>;
  /** T2: an application user in the given business unit; returns the new systemuserid. */
  createApplicationUser(target: DataverseTarget, applicationId: string, businessUnitId: string): Promise<string>;
  /** Associates a security role with a systemuser (`systemuserroles_association/$ref`). */
  assignRole(target: DataverseTarget, systemUserId: string, roleId: string): Promise<void>;
}
