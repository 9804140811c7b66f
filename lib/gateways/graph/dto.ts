import { mailOf, NEVER_SIGNED_IN, NONE, signInActivityOf, type StringPool } from '../../domain/string-pool.js';
import type { DirectoryObject, DirectoryRole, Group, SubscribedSku as GraphSubscribedSku, User } from '@microsoft/microsoft-graph-types';
import { ADMIN_ROLE_TEMPLATE_IDS, type AdminRole, type DirectoryUser, type GroupMember, type SubscribedSku } from '../../domain/model.js';

/**
 * Microsoft Graph wire records and their one-way conversion to the domain model. Nothing outside
 * the Graph gateway sees these shapes.
 */

/** The user properties Steward reads: every `$select` of a user asks for exactly these. */
export const USER_SELECT = [
  'id',
  'userPrincipalName',
  'displayName',
  'givenName',
  'surname',
  'jobTitle',
  'mail',
  'mobilePhone',
  'businessPhones',
  'streetAddress',
  'city',
  'state',
  'country',
  'usageLocation',
  'accountEnabled',
  'userType',
  'assignedLicenses',
  'onPremisesSyncEnabled',
  'createdDateTime',
  'licenseAssignmentStates',
] as const satisfies readonly (keyof User)[];

/**
 * The audit's listing also asks for `signInActivity` (L2), in the same pages. It is asked for there
 * only: without Entra ID P1 or `AuditLog.Read.All` Graph refuses any request that selects it, and
 * a single user's read (diagnose, the operations) must not fail for that.
 */
export const AUDIT_USER_SELECT = [...USER_SELECT, 'signInActivity'] as const satisfies readonly (keyof User)[];

/**
 * The page size of the audit's listing. With `signInActivity` selected Graph documents a smaller
 * maximum page than its usual 999: 120 in 2023, 999 later, 500 since July 2025 (beta `user-list`,
 * microsoft-graph-docs-contrib PR #9591; the v1.0 figure is not confirmed). 500 is within every
 * figure but the oldest; it costs one page per 500 users instead of one per 999.
 */
export const AUDIT_USER_PAGE_SIZE = 500;

/**
 * SPEC §9: what `/users/delta` selects. `signInActivity` and `licenseAssignmentStates` are not
 * tracked by delta query: an incremental run keeps their last full-run values and their checks
 * (L2, L3) keep their findings open until the next full run.
 */
export const DELTA_USER_SELECT = USER_SELECT.filter((p) => p !== 'licenseAssignmentStates');

/** Graph's delta pages: as many objects a page as it allows (`Prefer: odata.maxpagesize`, delta-query-overview). */
export const DELTA_PAGE_HEADERS = { Prefer: 'odata.maxpagesize=999' } as const;

/** A delta entry of a deleted object (`@removed`, delta-query-overview "Resource representation in the delta query response"). */
export type WireDeltaObject<T> = T & { '@removed'?: { reason?: string }; 'members@delta'?: (WireDirectoryObject & { '@removed'?: unknown })[] };

/** The 403 code of L2: the tenant lacks Entra ID P1 (or is a B2C tenant) for `signInActivity`. */
export const SIGN_IN_ACTIVITY_REFUSED = 'Authentication_RequestFromNonPremiumTenantOrB2CTenant';

export type WireUser = Pick<User, (typeof AUDIT_USER_SELECT)[number]>;

/** A member of a mixed directory collection (`members`, `memberOf`…): Graph tags each with `@odata.type`. */
export type WireDirectoryObject = DirectoryObject &
  Partial<Pick<Group, 'displayName' | 'isAssignableToRole'>> &
  Partial<Pick<DirectoryRole, 'roleTemplateId'>> & { '@odata.type'?: string };

export const ODATA_TYPE = {
  user: '#microsoft.graph.user',
  group: '#microsoft.graph.group',
  directoryRole: '#microsoft.graph.directoryRole',
} as const;

/** An assignment of `/roleManagement/directory/roleAssignments` with its `principal` expanded (R2). */
export interface WireRoleAssignment {
  id?: string;
  principalId?: string;
  roleDefinitionId?: string;
  principal?: WireDirectoryObject | null;
}

/**
 * R2: who holds each admin role, through an API documented to page (v1.0
 * `rbacapplication-list-roleassignments`; its Example 1 is this very `$filter` with
 * `$expand=principal`). `/directoryRoles/{id}/members` answers at most 1,000 objects and does not
 * page (`directoryrole-list-members`). For a built-in role the role definition id is its template
 * id. `$top` is not among the documented options: the service's own page size is followed to the end.
 */
export function adminRoleAssignmentRequests(roles: readonly AdminRole[]): BatchRequestItem[] {
  return roles.map((role) => ({
    id: role,
    method: 'GET',
    url: `/roleManagement/directory/roleAssignments?$filter=${encodeURIComponent(`roleDefinitionId eq '${ADMIN_ROLE_TEMPLATE_IDS[role]}'`)}&$expand=principal`,
  }));
}

/** One request inside a JSON `$batch` (URL relative to the version, e.g. `/users/{id}`). */
export interface BatchRequestItem {
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
}

export interface BatchResponseItem {
  id: string;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface BatchResponseBody {
  responses?: BatchResponseItem[];
}

const str = (value: string | null | undefined): string | null => (typeof value === 'string' ? value : null);

type Sharing = Pick<StringPool, 'share' | 'shareList'>;

/** Shares nothing but the empty list: a single user read on its own. */
const noPool: Sharing = { share: <T extends string | null>(value: T): T => value, shareList: <T extends string>(values: readonly T[]) => (values.length === 0 ? NONE : values) };

/** The strings of a JSON array, in an array of exactly their number (`filter` reserves room for 17). */
function stringList(values: readonly unknown[] | null | undefined, pool: Sharing): readonly string[] {
  if (!values || values.length === 0) return NONE;
  const strings = values.every((v) => typeof v === 'string') ? (values as string[]) : values.filter((v): v is string => typeof v === 'string');
  return pool.shareList(strings);
}

export function toDirectoryUser(user: Partial<WireUser>, pool: Sharing = noPool): DirectoryUser {
  if (typeof user.id !== 'string' || typeof user.userPrincipalName !== 'string') {
    throw new TypeError('a Graph user without id or userPrincipalName');
  }
  return {
    id: user.id,
    userPrincipalName: user.userPrincipalName,
    displayName: str(user.displayName),
    givenName: pool.share(str(user.givenName)),
    surname: pool.share(str(user.surname)),
    jobTitle: pool.share(str(user.jobTitle)),
    mail: mailOf(str(user.mail), user.userPrincipalName),
    mobilePhone: str(user.mobilePhone),
    businessPhones: stringList(user.businessPhones, noPool),
    streetAddress: pool.share(str(user.streetAddress)),
    city: pool.share(str(user.city)),
    state: pool.share(str(user.state)),
    country: pool.share(str(user.country)),
    usageLocation: pool.share(str(user.usageLocation)),
    accountEnabled: user.accountEnabled === true,
    userType: user.userType?.toLowerCase() === 'guest' ? 'Guest' : 'Member',
    assignedSkuIds: heldSkuIds(user, pool),
    onPremisesSyncEnabled: user.onPremisesSyncEnabled === true,
    createdDateTime: str(user.createdDateTime),
    signInActivity: user.signInActivity
      ? signInActivityOf(
          str(user.signInActivity.lastSignInDateTime),
          str(user.signInActivity.lastNonInteractiveSignInDateTime),
          str((user.signInActivity as { lastSuccessfulSignInDateTime?: string | null }).lastSuccessfulSignInDateTime),
        )
      : user.signInActivity === null
        ? NEVER_SIGNED_IN
        : null,
    licenseErrors: licenseErrorsOf(user, pool),
    ...groupLicensesOf(user, pool),
  };
}

/** The applied licence assignments made through a group, and which of those SKUs are also direct (diagnose's evidence). */
function groupLicensesOf(user: Partial<WireUser>, pool: Sharing): Pick<DirectoryUser, 'groupLicenses' | 'directSkuIds'> {
  const applied = (user.licenseAssignmentStates ?? []).filter((s) => !inError(s) && typeof s.skuId === 'string');
  const byGroup = applied.filter((s) => typeof s.assignedByGroup === 'string' && s.assignedByGroup);
  if (byGroup.length === 0) return {};
  return {
    groupLicenses: byGroup.map((s) => ({ skuId: pool.share(s.skuId!), groupId: pool.share(s.assignedByGroup!) })),
    directSkuIds: pool.shareList(applied.filter((s) => !s.assignedByGroup).map((s) => s.skuId!)),
  };
}


const inError = (state: { state?: string | null }) => state.state?.toLowerCase() === 'error';

/** L3: the licence assignments in state `Error`. */
function licenseErrorsOf(user: Partial<WireUser>, pool: Sharing): DirectoryUser['licenseErrors'] {
  const states = user.licenseAssignmentStates;
  const errors = (states ?? []).filter((s) => inError(s) && typeof s.skuId === 'string');
  if (errors.length === 0) return NONE;
  return errors.map((s) => ({ skuId: pool.share(s.skuId!), error: pool.share(s.error ?? 'Other'), assignedByGroup: str(s.assignedByGroup) }));
}

/** The SKUs held: those of `assignedLicenses` but the ones whose every assignment state is `Error` (L3). */
function heldSkuIds(user: Partial<WireUser>, pool: Sharing): readonly string[] {
  const assigned = stringList(user.assignedLicenses?.map((l) => l.skuId), pool);
  const states = user.licenseAssignmentStates;
  if (!states || states.length === 0) return assigned;
  const failed = new Set(states.filter(inError).map((s) => s.skuId?.toLowerCase()));
  for (const s of states) if (!inError(s)) failed.delete(s.skuId?.toLowerCase());
  return failed.size === 0 ? assigned : pool.shareList(assigned.filter((id) => !failed.has(id.toLowerCase())));
}

export function toSubscribedSku(sku: GraphSubscribedSku): SubscribedSku {
  return {
    skuId: sku.skuId ?? '',
    skuPartNumber: sku.skuPartNumber ?? '',
    capabilityStatus: sku.capabilityStatus ?? 'Enabled',
    consumedUnits: sku.consumedUnits ?? 0,
    enabledUnits: sku.prepaidUnits?.enabled ?? 0,
    suspendedUnits: sku.prepaidUnits?.suspended ?? 0,
    warningUnits: sku.prepaidUnits?.warning ?? 0,
  };
}

export function memberKind(object: WireDirectoryObject): GroupMember['kind'] {
  const type = object['@odata.type']?.toLowerCase();
  if (type === ODATA_TYPE.user.toLowerCase()) return 'user';
  if (type === ODATA_TYPE.group.toLowerCase()) return 'group';
  return 'other';
}

export function toGroupMember(object: WireDirectoryObject): GroupMember {
  return { id: object.id ?? '', kind: memberKind(object), displayName: str(object.displayName) };
}

/** The admin role a directory role object stands for (by its template id), if it is one of the three. */
export function adminRoleOf(object: WireDirectoryObject): AdminRole | undefined {
  if (object['@odata.type']?.toLowerCase() !== ODATA_TYPE.directoryRole.toLowerCase()) return undefined;
  const template = object.roleTemplateId?.toLowerCase();
  return (Object.keys(ADMIN_ROLE_TEMPLATE_IDS) as AdminRole[]).find((role) => ADMIN_ROLE_TEMPLATE_IDS[role] === template);
}
