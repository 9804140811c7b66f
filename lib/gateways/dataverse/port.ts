import type {
  AccessModeValue,
  BusinessUnit,
  DataverseTeam,
  Environment,
  OrganizationSettings,
  SecurityRole,
  SystemUser,
} from '../../domain/model.js';
import type { DeltaPages } from '../http/delta.js';
import type { Pages } from '../http/pages.js';

/**
 * The port of the Dataverse databases: what the use cases may ask of an environment's users, teams
 * and roles, in domain shapes. The gateway's rooms, as in every folder of `lib/gateways/`:
 * `port.ts` (this interface), `dto.ts` (the Web API's records, the columns Steward selects, and
 * their one conversion to and from the domain), `client.ts` (the transport: a token per instance,
 * the concurrency bound per environment, retries, timeouts, paging, errors as `ServiceError`) and
 * `operations.ts` (`WebApiDataverseGateway`, one method per remote operation). Listings are `Pages`
 * (see `../http/pages.ts`).
 */

/** An environment's Dataverse database is addressed by its id and instance URL. */
export type DataverseTarget = Pick<Environment, 'id' | 'instanceUrl'>;

/** What `updateSystemUser` changes on a row; what is absent stays as it is. */
export interface SystemUserUpdate {
  accessMode?: AccessModeValue;
  disabled?: boolean;
}

/** A role given directly to a row: one row of the `systemuserroles` intersect table. */
export interface RoleAssignment {
  id: string;
  systemUserId: string;
  roleId: string;
}

/**
 * SPEC §9: what changed in an environment, by Dataverse change tracking. `from` is a delta link kept
 * from an earlier round, or null for the first round (every row). A refused link throws the
 * service's error (`isRefusedDeltaToken`).
 */
export interface DataverseChanges {
  /** `systemusers` with the audit's columns; the rows carry no roles (`roleIds` empty): those are `roleAssignmentChanges`. */
  systemUserChanges(target: DataverseTarget, from: string | null): DeltaPages<SystemUser>;
  /** `systemuserrolescollection`: roles given (rows created) and taken away (rows deleted). */
  roleAssignmentChanges(target: DataverseTarget, from: string | null): DeltaPages<RoleAssignment>;
}

export interface DataverseGateway extends Partial<DataverseChanges> {
  /**
   * Every systemuser with its directly assigned role ids, a page at a time as Dataverse answers
   * (5,000 a page): an environment's 5,000 rows are one step for the consumer, not 5,000 awaits.
   */
  listSystemUsers(target: DataverseTarget): Pages<SystemUser>;
  /** The row of one Entra user (by object id), with its roles; null when none. */
  findSystemUserByEntraId(target: DataverseTarget, entraObjectId: string): Promise<SystemUser | null>;
  /** By `domainname` (the UPN, P1), ignoring case: the row of a user Entra no longer knows (D4.1). */
  findSystemUserByDomainName(target: DataverseTarget, domainName: string): Promise<SystemUser | null>;
  /** The application user (T2) of an Entra application id; null when none. */
  findSystemUserByApplicationId(target: DataverseTarget, applicationId: string): Promise<SystemUser | null>;
  getSystemUser(target: DataverseTarget, systemUserId: string): Promise<SystemUser | null>;
  /** Teams with their roles and members (U3: a role through a team counts). */
  listTeams(target: DataverseTarget): Pages<DataverseTeam>;
  /** Group teams (U4, `teamtype` 2 or 3) with their roles and their group; members are decided from Entra. */
  listGroupTeams(target: DataverseTarget): Pages<DataverseTeam>;
  /** Teams of one user, with their roles; none when there is no such row. */
  listTeamsOfUser(target: DataverseTarget, systemUserId: string): Pages<DataverseTeam>;
  listRoles(target: DataverseTarget): Pages<SecurityRole>;
  listBusinessUnits(target: DataverseTarget): Pages<BusinessUnit>;
  getOrganizationSettings(target: DataverseTarget): Promise<OrganizationSettings>;
  updateSystemUser(target: DataverseTarget, systemUserId: string, update: SystemUserUpdate): Promise<void>;
  /** T2: an application user in the given business unit; returns the new row's id. */
  createApplicationUser(target: DataverseTarget, applicationId: string, businessUnitId: string): Promise<string>;
  /** Gives a row a security role directly (E5 is the caller's to check). */
  assignRole(target: DataverseTarget, systemUserId: string, roleId: string): Promise<void>;
}
