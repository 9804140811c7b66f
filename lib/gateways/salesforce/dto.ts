import type {
  SalesforceAssignment,
  SalesforceConnectedApp,
  SalesforcePermissionSet,
  SalesforcePermissionSetLicense,
  SalesforceProfile,
  SalesforceUser,
  SalesforceUserLicense,
} from '../../domain/model.js';

/**
 * Salesforce REST records (SOQL rows of the fields Steward selects, the OAuth token answer) and
 * their one conversion to the domain model. Nothing outside the gateway sees these names.
 */

/** One page of a SOQL query (`/query`, then each `nextRecordsUrl`). */
export interface QueryResultDto<T> {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: T[];
}

export interface TokenResponseDto {
  access_token: string;
  instance_url: string;
  id: string;
}

export interface UserLicenseDto {
  Id: string;
  Name: string;
  MasterLabel?: string | null;
  LicenseDefinitionKey?: string | null;
  Status?: string | null;
  TotalLicenses?: number | null;
  UsedLicenses?: number | null;
}

export interface UserDto {
  Id: string;
  Username: string;
  IsActive?: boolean | null;
  ProfileId?: string | null;
  UserType?: string | null;
}

export interface ProfileDto {
  Id: string;
  Name: string;
  UserLicenseId?: string | null;
}

export interface PermissionSetDto {
  Id: string;
  Name: string;
  Label?: string | null;
}

export interface PermissionSetAssignmentDto {
  Id: string;
  AssigneeId: string;
  PermissionSetId: string;
}

export interface PermissionSetLicenseDto {
  Id: string;
  DeveloperName: string;
  MasterLabel?: string | null;
  TotalLicenses?: number | null;
  UsedLicenses?: number | null;
}

export interface PermissionSetLicenseAssignDto {
  Id: string;
  AssigneeId: string;
  PermissionSetLicenseId: string;
}

export interface ConnectedApplicationDto {
  Id: string;
  Name: string;
}

/** The `User` fields every read of a user selects. */
export const USER_FIELDS = 'Id, Username, IsActive, ProfileId, UserType';

export const toUser = (u: UserDto): SalesforceUser => ({
  id: u.Id,
  username: u.Username,
  isActive: u.IsActive === true,
  profileId: u.ProfileId ?? null,
  userType: u.UserType ?? null,
});

export const toUserLicense = (l: UserLicenseDto): SalesforceUserLicense => ({
  id: l.Id,
  name: l.Name,
  masterLabel: l.MasterLabel ?? l.Name,
  licenseDefinitionKey: l.LicenseDefinitionKey ?? null,
  status: l.Status ?? 'Active',
  total: l.TotalLicenses ?? 0,
  used: l.UsedLicenses ?? 0,
});

export const toProfile = (p: ProfileDto): SalesforceProfile => ({ id: p.Id, name: p.Name, userLicenseId: p.UserLicenseId ?? null });

export const toPermissionSet = (p: PermissionSetDto): SalesforcePermissionSet => ({ id: p.Id, name: p.Name, label: p.Label ?? null });

export const toPermissionSetLicense = (p: PermissionSetLicenseDto): SalesforcePermissionSetLicense => ({
  id: p.Id,
  developerName: p.DeveloperName,
  masterLabel: p.MasterLabel ?? p.DeveloperName,
  total: p.TotalLicenses ?? 0,
  used: p.UsedLicenses ?? 0,
});

export const toPermissionSetAssignment = (a: PermissionSetAssignmentDto): SalesforceAssignment => ({
  id: a.Id,
  assigneeId: a.AssigneeId,
  grantedId: a.PermissionSetId,
});

export const toPermissionSetLicenseAssignment = (a: PermissionSetLicenseAssignDto): SalesforceAssignment => ({
  id: a.Id,
  assigneeId: a.AssigneeId,
  grantedId: a.PermissionSetLicenseId,
});

export const toConnectedApp = (a: ConnectedApplicationDto): SalesforceConnectedApp => ({ id: a.Id, name: a.Name });

/** S1: the one change Steward writes to a `User`. */
export const ACTIVATE_USER: Pick<UserDto, 'IsActive'> = { IsActive: true };

/** `GET /services/data/vNN.0/limits`: each limit as `{ Max, Remaining }` (Salesforce REST API Developer Guide, "Limits"). */
export interface LimitsDto {
  DailyApiRequests?: { Max: number; Remaining: number };
}
