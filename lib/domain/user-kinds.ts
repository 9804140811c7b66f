import { AccessMode, type SystemUser } from './model.js';

/** T2: application users carry an `applicationid`; they never count toward the cap of 7. */
export const isApplicationUser = (row: SystemUser) => row.applicationId !== null;

/** T3: non-interactive = access mode 4 without an application id. */
export const isNonInteractiveUser = (row: SystemUser) => row.accessMode === AccessMode.NonInteractive && !isApplicationUser(row);

/** T4, T5: the Microsoft support and delegated admin users are not synced. */
export const isSupportOrDelegatedAdmin = (row: SystemUser) =>
  row.accessMode === AccessMode.SupportUser || row.accessMode === AccessMode.DelegatedAdmin;

/** T6: a stub user has no Entra object and is none of the special kinds. */
export const isStubUser = (row: SystemUser) => row.entraObjectId === null && !isApplicationUser(row) && !isSupportOrDelegatedAdmin(row);

/**
 * SPEC §2: a regular systemuser is synced from Entra (T1): no application id, not a support or
 * delegated admin user, and an Entra object id.
 */
export const isRegularUser = (row: SystemUser): row is SystemUser & { entraObjectId: string } =>
  !isApplicationUser(row) && !isSupportOrDelegatedAdmin(row) && row.entraObjectId !== null;

export function accessModeName(value: number): string {
  switch (value) {
    case AccessMode.ReadWrite: return 'Read-Write';
    case AccessMode.Administrative: return 'Administrative';
    case AccessMode.Read: return 'Read';
    case AccessMode.SupportUser: return 'Support User';
    case AccessMode.NonInteractive: return 'Non-interactive';
    case AccessMode.DelegatedAdmin: return 'Delegated Admin';
    default: return `Unknown (${value})`;
  }
}
