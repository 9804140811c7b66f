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
] as const satisfies readonly (keyof User)[];

export type WireUser = Pick<User, (typeof USER_SELECT)[number]>;

/** A member of a mixed directory collection (`members`, `memberOf`…): Graph tags each with `@odata.type`. */
export type WireDirectoryObject = DirectoryObject &
  Partial<Pick<Group, 'displayName'>> &
  Partial<Pick<DirectoryRole, 'roleTemplateId'>> & { '@odata.type'?: string };

export const ODATA_TYPE = {
  user: '#microsoft.graph.user',
  group: '#microsoft.graph.group',
  directoryRole: '#microsoft.graph.directoryRole',
} as const;

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

/**
 * Shares equal strings among the users of one listing. A tenant's users repeat the same few job
 * titles, cities, countries, usage locations, given names and SKU ids; a 100,000-user directory is
 * held for a whole audit run, and one copy of each value instead of one per user saves tens of MB.
 * Bounded, so a listing of unusually varied values stops sharing rather than growing without limit.
 */
export class StringPool {
  private readonly pool = new Map<string, string>();

  constructor(private readonly limit = 100_000) {}

  share<T extends string | null>(value: T): T {
    if (value === null) return value;
    const known = this.pool.get(value);
    if (known !== undefined) return known as T;
    if (this.pool.size < this.limit) this.pool.set(value, value);
    return value;
  }
}

const noPool = { share: <T extends string | null>(value: T): T => value };

/** The strings of a JSON array, in an array of exactly their number (`filter` reserves room for 17). */
function stringList(values: readonly unknown[] | null | undefined, pool: Pick<StringPool, 'share'>): string[] {
  if (!values || values.length === 0) return [];
  const strings = values.every((v) => typeof v === 'string') ? (values as string[]) : values.filter((v): v is string => typeof v === 'string');
  return strings.map((v) => pool.share(v));
}

export function toDirectoryUser(user: Partial<WireUser>, pool: Pick<StringPool, 'share'> = noPool): DirectoryUser {
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
    mail: str(user.mail),
    mobilePhone: str(user.mobilePhone),
    businessPhones: stringList(user.businessPhones, noPool),
    streetAddress: pool.share(str(user.streetAddress)),
    city: pool.share(str(user.city)),
    state: pool.share(str(user.state)),
    country: pool.share(str(user.country)),
    usageLocation: pool.share(str(user.usageLocation)),
    accountEnabled: user.accountEnabled === true,
    userType: user.userType?.toLowerCase() === 'guest' ? 'Guest' : 'Member',
    assignedSkuIds: stringList(user.assignedLicenses?.map((l) => l.skuId), pool),
    onPremisesSyncEnabled: user.onPremisesSyncEnabled === true,
  };
}

export function toSubscribedSku(sku: GraphSubscribedSku): SubscribedSku {
  return {
    skuId: sku.skuId ?? '',
    skuPartNumber: sku.skuPartNumber ?? '',
    capabilityStatus: sku.capabilityStatus ?? 'Enabled',
    consumedUnits: sku.consumedUnits ?? 0,
    enabledUnits: sku.prepaidUnits?.enabled ?? 0,
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
