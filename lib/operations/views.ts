import { AccessMode, type DirectoryUser, type Environment, type SubscribedSku, type SystemUser } from '../domain/model.js';

/** What the operations answer about users and rows: plain data, domain words, no wire names. */

export type AccessModeName = 'read-write' | 'administrative' | 'read' | 'support-user' | 'non-interactive' | 'delegated-admin' | 'unknown';

/** A1 */
export const ACCESS_MODE_NAMES: Record<number, AccessModeName> = {
  [AccessMode.ReadWrite]: 'read-write',
  [AccessMode.Administrative]: 'administrative',
  [AccessMode.Read]: 'read',
  [AccessMode.SupportUser]: 'support-user',
  [AccessMode.NonInteractive]: 'non-interactive',
  [AccessMode.DelegatedAdmin]: 'delegated-admin',
};

export interface SystemUserView {
  id: string;
  entraObjectId: string | null;
  domainName: string | null;
  applicationId: string | null;
  accessMode: AccessModeName;
  accessModeValue: number;
  isDisabled: boolean;
  isLicensed: boolean;
  businessUnitId: string | null;
  roleIds: string[];
}

export function systemUserView(row: SystemUser): SystemUserView {
  return {
    id: row.id,
    entraObjectId: row.entraObjectId,
    domainName: row.domainName,
    applicationId: row.applicationId,
    accessMode: ACCESS_MODE_NAMES[row.accessMode] ?? 'unknown',
    accessModeValue: row.accessMode,
    isDisabled: row.isDisabled,
    isLicensed: row.isLicensed,
    businessUnitId: row.businessUnitId,
    roleIds: row.roleIds,
  };
}

/** The account's own fields as the directory has them, and its licenses by name. */
export interface DirectoryUserView
  extends Pick<
    DirectoryUser,
    'id' | 'userPrincipalName' | 'displayName' | 'givenName' | 'surname' | 'jobTitle' | 'usageLocation' | 'accountEnabled' | 'userType' | 'onPremisesSyncEnabled'
  > {
  licenses: { skuId: string; skuPartNumber: string | null }[];
}

export function directoryUserView(user: DirectoryUser, skus: readonly SubscribedSku[] = []): DirectoryUserView {
  return {
    id: user.id,
    userPrincipalName: user.userPrincipalName,
    displayName: user.displayName,
    givenName: user.givenName,
    surname: user.surname,
    jobTitle: user.jobTitle,
    usageLocation: user.usageLocation,
    accountEnabled: user.accountEnabled,
    userType: user.userType,
    onPremisesSyncEnabled: user.onPremisesSyncEnabled,
    licenses: user.assignedSkuIds.map((skuId) => ({
      skuId,
      skuPartNumber: skus.find((s) => s.skuId.toLowerCase() === skuId.toLowerCase())?.skuPartNumber ?? null,
    })),
  };
}

export const environmentView = (environment: Environment) => ({
  id: environment.id,
  displayName: environment.displayName,
  securityGroupId: environment.securityGroupId,
});
