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
  /** Every systemuser, pages of 5,000 (`Prefer: odata.maxpagesize`), with directly assigned role ids. */
  listSystemUsers(target: DataverseTarget): AsyncIterable<SystemUser>;
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
