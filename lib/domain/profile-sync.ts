import type { DirectoryUser, SystemUserProfile } from './model.js';

/**
 * P1: the profile fields the sync copies from Entra ID to `systemuser`. `fullname` and the e-mail
 * fields are deliberately absent: the sync does not keep them (customers may change them).
 */
export const SYNCED_PROFILE_FIELDS: readonly { entra: string; systemuser: keyof SystemUserProfile; read: (u: DirectoryUser) => string | null }[] = [
  { entra: 'userPrincipalName', systemuser: 'domainname', read: (u) => u.userPrincipalName },
  { entra: 'givenName', systemuser: 'firstname', read: (u) => u.givenName },
  { entra: 'surname', systemuser: 'lastname', read: (u) => u.surname },
  { entra: 'jobTitle', systemuser: 'title', read: (u) => u.jobTitle },
  { entra: 'businessPhones[0]', systemuser: 'address1_telephone1', read: (u) => u.businessPhones[0] ?? null },
  { entra: 'mobilePhone', systemuser: 'mobilephone', read: (u) => u.mobilePhone },
  { entra: 'streetAddress', systemuser: 'address1_line1', read: (u) => u.streetAddress },
  { entra: 'city', systemuser: 'address1_city', read: (u) => u.city },
  { entra: 'state', systemuser: 'address1_stateorprovince', read: (u) => u.state },
  { entra: 'country', systemuser: 'address1_country', read: (u) => u.country },
];

/** null, "" and absent are the same; surrounding blanks do not count (SPEC §2). */
const normalize = (value: string | null | undefined) => (value ?? '').trim();

export interface ProfileDifference {
  field: string;
  systemuserField: string;
  entra: string | null;
  dataverse: string | null;
}

export function profileDifferences(user: DirectoryUser, profile: SystemUserProfile): ProfileDifference[] {
  const differences: ProfileDifference[] = [];
  for (const field of SYNCED_PROFILE_FIELDS) {
    const entra = normalize(field.read(user));
    const dataverse = normalize(profile[field.systemuser]);
    // A UPN is case-insensitive in Entra ID, so the domain name is compared without case.
    const same = field.systemuser === 'domainname' ? entra.toLowerCase() === dataverse.toLowerCase() : entra === dataverse;
    if (!same) differences.push({ field: field.entra, systemuserField: field.systemuser, entra: entra || null, dataverse: dataverse || null });
  }
  return differences;
}
