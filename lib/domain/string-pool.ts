import type { DirectoryUser, SignInActivity } from './model.js';

/**
 * Shares equal strings among the users of one listing (a Graph read, a kept delta state). A tenant's users repeat the same few job
 * titles, cities, countries, usage locations, given names and SKU ids; a 100,000-user directory is
 * held for a whole audit run, and one copy of each value instead of one per user saves tens of MB.
 * Bounded, so a listing of unusually varied values stops sharing rather than growing without limit.
 */
export class StringPool {
  private readonly pool = new Map<string, string>();
  private readonly lists = new Map<string, readonly string[]>();

  constructor(private readonly limit = 100_000) {}

  share<T extends string | null>(value: T): T {
    if (value === null) return value;
    const known = this.pool.get(value);
    if (known !== undefined) return known as T;
    if (this.pool.size < this.limit) this.pool.set(value, value);
    return value;
  }

  /**
   * One frozen copy of each list of strings: users hold the same few combinations of SKU ids, and
   * most hold no phone and no licence error. Each list is an array object of its own (32 bytes
   * empty, more with elements); at a million users that is tens of MB (issue 15: licences packed).
   */
  shareList<T extends string>(values: readonly T[]): readonly T[] {
    if (values.length === 0) return NONE;
    const key = values.length === 1 ? values[0]! : values.join('\n');
    const known = this.lists.get(key);
    if (known !== undefined) return known as readonly T[];
    const list = Object.freeze(values.map((value) => this.share(value)));
    if (this.lists.size < this.limit) this.lists.set(key, list);
    return list;
  }
}

/** The one empty list every listing shares (frozen: a list held by many users is never changed in place). */
export const NONE: readonly never[] = Object.freeze([]);

/** Graph leaves `signInActivity` out (or null) for a user who never signed in (L2): one frozen copy for all of them. */
export const NEVER_SIGNED_IN: SignInActivity = Object.freeze({ lastSignInDateTime: null, lastNonInteractiveSignInDateTime: null, lastSuccessfulSignInDateTime: null });

/**
 * A user's sign-in times with equal ones held as one string: the last successful sign-in is most
 * often the last interactive or non-interactive one, and a user who never signed in shares one
 * record with every other.
 */
export function signInActivityOf(last: string | null, nonInteractive: string | null, successful: string | null): SignInActivity {
  if (last === null && nonInteractive === null && successful === null) return NEVER_SIGNED_IN;
  const ni = nonInteractive === last ? last : nonInteractive;
  return { lastSignInDateTime: last, lastNonInteractiveSignInDateTime: ni, lastSuccessfulSignInDateTime: successful === last ? last : successful === ni ? ni : successful };
}

/** `mail` is most often the UPN itself: then the user holds one string for both. */
export function mailOf(mail: string | null, userPrincipalName: string): string | null {
  return mail === userPrincipalName ? userPrincipalName : mail;
}

/**
 * A directory user read back from the state kept between runs, as compact as a Graph read makes
 * it: repeated values shared through the pool, equal strings held once, and every user of one
 * shape (one object literal, its fields in the object itself rather than in a separate store).
 */
export function compactDirectoryUser(user: DirectoryUser, pool: StringPool): DirectoryUser {
  const signIn = user.signInActivity;
  const lists = <T extends string>(values: readonly T[] | undefined) => (values === undefined ? undefined : pool.shareList(values));
  return {
    id: user.id,
    userPrincipalName: user.userPrincipalName,
    displayName: user.displayName,
    givenName: pool.share(user.givenName),
    surname: pool.share(user.surname),
    jobTitle: pool.share(user.jobTitle),
    mail: mailOf(user.mail, user.userPrincipalName),
    mobilePhone: user.mobilePhone,
    businessPhones: user.businessPhones.length === 0 ? NONE : user.businessPhones,
    streetAddress: pool.share(user.streetAddress),
    city: pool.share(user.city),
    state: pool.share(user.state),
    country: pool.share(user.country),
    usageLocation: pool.share(user.usageLocation),
    accountEnabled: user.accountEnabled,
    userType: user.userType,
    assignedSkuIds: pool.shareList(user.assignedSkuIds),
    onPremisesSyncEnabled: user.onPremisesSyncEnabled,
    createdDateTime: user.createdDateTime,
    signInActivity: signIn && signInActivityOf(signIn.lastSignInDateTime, signIn.lastNonInteractiveSignInDateTime, signIn.lastSuccessfulSignInDateTime),
    licenseErrors: user.licenseErrors.length === 0 ? NONE : user.licenseErrors,
    ...(user.groupLicenses !== undefined ? { groupLicenses: user.groupLicenses, directSkuIds: lists(user.directSkuIds) ?? NONE } : {}),
  };
}
