import {
  SOQL_CANDIDATE_PATTERNS,
  isCopilotConnectedApp,
  isCopilotPermissionSet,
  isIntegrationProfileName,
  isIntegrationUsername,
} from '../../domain/copilot-for-sales-names.js';
import type { SalesforceOrgSnapshot, SalesforceUser } from '../../domain/model.js';
import { ServiceError } from '../http/service-error.js';
import { SalesforceClient, type SalesforceClientOptions } from './client.js';
import {
  ACTIVATE_USER,
  USER_FIELDS,
  toConnectedApp,
  toPermissionSet,
  toPermissionSetAssignment,
  toPermissionSetLicense,
  toPermissionSetLicenseAssignment,
  toProfile,
  toUser,
  toUserLicense,
  type ConnectedApplicationDto,
  type LimitsDto,
  type PermissionSetAssignmentDto,
  type PermissionSetDto,
  type PermissionSetLicenseAssignDto,
  type PermissionSetLicenseDto,
  type ProfileDto,
  type UserDto,
  type UserLicenseDto,
} from './dto.js';
import type { SalesforceApiLimits, SalesforceGateway } from './port.js';
import { soqlList, soqlString } from './soql-literal.js';

/** Ids per `IN (...)` list: keeps each query URL well under Salesforce's URI length limit. */
const IN_LIST_CHUNK = 200;

const SALESFORCE_ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

const likeAny = (field: string, patterns: readonly string[]) => patterns.map((p) => `${field} LIKE ${soqlString(p)}`).join(' OR ');

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The records of the first round of `getOrgSnapshot`: everything that does not depend on ids. */
interface Candidates {
  licenses: UserLicenseDto[];
  users: UserDto[];
  profiles: ProfileDto[];
  permissionSets: PermissionSetDto[];
  permissionSetLicenses: PermissionSetLicenseDto[];
  connectedApps: ConnectedApplicationDto[];
}

export type JsforceSalesforceGatewayOptions = SalesforceClientOptions;

/** The Salesforce REST API of the configured orgs: one method per remote operation, in SOQL and sObjects. */
export class JsforceSalesforceGateway implements SalesforceGateway {
  private readonly salesforce: SalesforceClient;

  constructor(options: JsforceSalesforceGatewayOptions) {
    this.salesforce = new SalesforceClient(options);
  }

  orgIds(): string[] {
    return this.salesforce.orgIds();
  }

  orgName(orgId: string): string | null {
    return this.salesforce.org(orgId)?.name ?? null;
  }

  /**
   * A handful of SOQL queries, every page: first what the naming rules pick among (the LIKE
   * patterns are broad; the rules decide), then the assignments of what they picked.
   */
  async getApiLimits(orgId: string): Promise<SalesforceApiLimits> {
    const limits = await this.salesforce.send<LimitsDto>(orgId, 'getApiLimits', 'limits', { method: 'GET', url: `${this.salesforce.dataPath()}/limits` });
    return { dailyApiRequests: { max: limits.DailyApiRequests?.Max ?? 0, remaining: limits.DailyApiRequests?.Remaining ?? 0 } };
  }

  async getOrgSnapshot(orgId: string): Promise<SalesforceOrgSnapshot> {
    const operation = 'getOrgSnapshot';
    const query = <T>(soql: string) => this.salesforce.query<T>(orgId, soql, operation);
    const candidates = await this.candidates(orgId, operation);

    const integrationUsers = candidates.users.filter((u) => isIntegrationUsername(u.Username));
    const integrationProfiles = candidates.profiles.filter((p) => isIntegrationProfileName(p.Name));
    const copilotPermissionSets = candidates.permissionSets.filter((p) => isCopilotPermissionSet(p.Name, p.Label ?? null));
    const userIds = integrationUsers.map((u) => u.Id);
    const permissionSetIds = copilotPermissionSets.map((p) => p.Id);

    /** Runs one query per chunk of ids, one chunk after the other. */
    const byChunks = async <T>(ids: string[], soql: (list: string) => string): Promise<T[]> => {
      const out: T[] = [];
      for (const chunk of chunks(ids, IN_LIST_CHUNK)) out.push(...(await query<T>(soql(soqlList(chunk)))));
      return out;
    };

    const [profileUsers, assignments, licenseAssignments] = await Promise.all([
      byChunks<Pick<UserDto, 'Id' | 'ProfileId'>>(
        integrationProfiles.map((p) => p.Id),
        (list) => `SELECT Id, ProfileId FROM User WHERE ProfileId IN ${list}`,
      ),
      permissionSetIds.length === 0
        ? Promise.resolve([])
        : byChunks<PermissionSetAssignmentDto>(
            userIds,
            (list) => `SELECT Id, AssigneeId, PermissionSetId FROM PermissionSetAssignment WHERE PermissionSetId IN ${soqlList(permissionSetIds)} AND AssigneeId IN ${list}`,
          ),
      byChunks<PermissionSetLicenseAssignDto>(
        userIds,
        (list) => `SELECT Id, AssigneeId, PermissionSetLicenseId FROM PermissionSetLicenseAssign WHERE AssigneeId IN ${list}`,
      ),
    ]);

    return {
      orgId,
      userLicenses: candidates.licenses.map(toUserLicense),
      integrationUsers: integrationUsers.map(toUser),
      integrationProfiles: integrationProfiles.map((p) => ({
        ...toProfile(p),
        userIds: profileUsers.filter((u) => u.ProfileId === p.Id).map((u) => u.Id),
      })),
      copilotPermissionSets: copilotPermissionSets.map(toPermissionSet),
      permissionSetAssignments: assignments.map(toPermissionSetAssignment),
      permissionSetLicenses: candidates.permissionSetLicenses.map(toPermissionSetLicense),
      permissionSetLicenseAssignments: licenseAssignments.map(toPermissionSetLicenseAssignment),
      copilotConnectedApps: candidates.connectedApps.filter((a) => isCopilotConnectedApp(a.Name)).map(toConnectedApp),
    };
  }

  async getUser(orgId: string, userId: string): Promise<SalesforceUser | null> {
    const operation = 'getUser';
    this.salesforce.requireOrg(orgId, operation);
    if (!SALESFORCE_ID.test(userId)) return null;
    try {
      const record = await this.salesforce.send<UserDto>(orgId, operation, 'read User', {
        method: 'GET',
        url: `${this.salesforce.dataPath()}/sobjects/User/${userId}?fields=${USER_FIELDS.replace(/\s/g, '')}`,
      });
      return toUser(record);
    } catch (error) {
      if (error instanceof ServiceError && error.isNotFound) return null;
      throw error;
    }
  }

  /** The user with that exact username (Salesforce compares usernames ignoring case), or null. */
  async findUserByUsername(orgId: string, username: string): Promise<SalesforceUser | null> {
    const users = await this.salesforce.query<UserDto>(orgId, `SELECT ${USER_FIELDS} FROM User WHERE Username = ${soqlString(username)}`, 'findUserByUsername');
    return users[0] ? toUser(users[0]) : null;
  }

  async activateUser(orgId: string, userId: string): Promise<void> {
    const operation = 'activateUser';
    this.salesforce.requireOrg(orgId, operation);
    if (!SALESFORCE_ID.test(userId)) {
      throw new ServiceError({ service: 'salesforce', operation, target: orgId, status: 404, code: 'NOT_FOUND' }, `not a Salesforce id: ${JSON.stringify(userId)}`);
    }
    await this.salesforce.send<void>(orgId, operation, 'update User', {
      method: 'PATCH',
      url: `${this.salesforce.dataPath()}/sobjects/User/${userId}`,
      body: JSON.stringify(ACTIVATE_USER),
      headers: { 'content-type': 'application/json' },
    });
  }

  /** The first round of `getOrgSnapshot`, in parallel. */
  private async candidates(orgId: string, operation: string): Promise<Candidates> {
    const query = <T>(soql: string) => this.salesforce.query<T>(orgId, soql, operation);
    const names = SOQL_CANDIDATE_PATTERNS.name;
    const [licenses, users, profiles, permissionSets, permissionSetLicenses, connectedApps] = await Promise.all([
      query<UserLicenseDto>('SELECT Id, Name, MasterLabel, LicenseDefinitionKey, Status, TotalLicenses, UsedLicenses FROM UserLicense'),
      query<UserDto>(`SELECT ${USER_FIELDS} FROM User WHERE ${likeAny('Username', SOQL_CANDIDATE_PATTERNS.username)}`),
      query<ProfileDto>(`SELECT Id, Name, UserLicenseId FROM Profile WHERE ${likeAny('Name', names)}`),
      query<PermissionSetDto>(`SELECT Id, Name, Label FROM PermissionSet WHERE IsOwnedByProfile = false AND (${likeAny('Name', names)} OR ${likeAny('Label', names)})`),
      query<PermissionSetLicenseDto>('SELECT Id, DeveloperName, MasterLabel, TotalLicenses, UsedLicenses FROM PermissionSetLicense'),
      query<ConnectedApplicationDto>(`SELECT Id, Name FROM ConnectedApplication WHERE ${likeAny('Name', names)}`),
    ]);
    return { licenses, users, profiles, permissionSets, permissionSetLicenses, connectedApps };
  }
}
