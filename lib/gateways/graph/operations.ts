import { StringPool } from '../../domain/string-pool.js';
import type { SubscribedSku as GraphSubscribedSku } from '@microsoft/microsoft-graph-types';
import {
  ADMIN_ROLE_TEMPLATE_IDS,
  type AdminRole,
  type AdminRoleMembers,
  type DirectoryUser,
  type GroupMember,
  type SecurityGroup,
  type SubscribedSku,
} from '../../domain/model.js';
import { odataQuery as query, odataString, pathSegment, type ODataCollection } from '../http/odata.js';
import { checkDeltaLinkOrigin, type DeltaEntry, type DeltaPages } from '../http/delta.js';
import { allPages, type Pages } from '../http/pages.js';
import { ServiceError } from '../http/service-error.js';
import { GRAPH_PAGE_SIZE, GraphClient, isOk, type GraphClientOptions } from './client.js';
import {
  AUDIT_USER_PAGE_SIZE,
  AUDIT_USER_SELECT,
  DELTA_PAGE_HEADERS,
  DELTA_USER_SELECT,
  SIGN_IN_ACTIVITY_REFUSED,
  USER_SELECT,
  adminRoleAssignmentRequests,
  adminRoleOf,
  memberKind,
  toDirectoryUser,
  toGroupMember,
  toSubscribedSku,
  type BatchRequestItem,
  type BatchResponseItem,
  type WireDeltaObject,
  type WireDirectoryObject,
  type WireRoleAssignment,
  type WireUser,
} from './dto.js';
import type { DirectoryGateway, GroupChange, ListUsersOptions, NewDirectoryUser, UserAccessFacts } from './port.js';

/** `@odata.id` of a directory object in `$ref` writes, as Graph documents it. */
const DIRECTORY_OBJECTS = 'https://graph.microsoft.com/v1.0/directoryObjects/';

const userSelect = USER_SELECT.join(',');
/** `/groups/delta` takes at most 50 ids in its `$filter` (group-delta, "Optional query parameters"). */
export const GROUP_DELTA_IDS = 50;
const MEMBER_SELECT = 'id,displayName';

/** `/users/{key}`: a key starting with `$` must use the `('…')` form (Graph reserves `$` segments). */
function userPath(idOrUpn: string): string {
  return idOrUpn.startsWith('$') ? `/users('${encodeURIComponent(idOrUpn.replace(/'/g, "''"))}')` : `/users/${pathSegment(idOrUpn)}`;
}

const groupPath = (groupId: string) => `/groups/${pathSegment(groupId)}`;

/** L2's refusal of `signInActivity`: no premium licence (the documented code), or no AuditLog.Read.All. */
function isSignInActivityRefusal(error: unknown): error is ServiceError {
  return error instanceof ServiceError && error.status === 403 && (error.code === SIGN_IN_ACTIVITY_REFUSED || error.code === 'Authorization_RequestDenied');
}

export type GraphDirectoryOptions = GraphClientOptions;

/**
 * A user's admin roles from `memberOf` (direct: roles assigned to the user, and groups) and
 * `transitiveMemberOf` ("groups, directory roles, and administrative units that the user is a member
 * of through either direct or transitive membership", v1.0 user-list-transitivememberof). A role in
 * the second and not the first is held through a role-assignable group (U5); since such a group
 * cannot hold groups, it is one of the user's direct groups with `isAssignableToRole`.
 */
function adminRolesOfUser(memberOf: WireDirectoryObject[], transitive: WireDirectoryObject[]): Pick<UserAccessFacts, 'adminRoles' | 'adminRoleGroups'> {
  const direct = new Set(memberOf.map(adminRoleOf).filter((r): r is AdminRole => r !== undefined));
  const adminRoles = new Set(direct);
  const adminRoleGroups = new Map<AdminRole, { id: string; displayName: string | null }[]>();
  const assignable = memberOf.filter((o) => memberKind(o) === 'group' && o.isAssignableToRole === true).map((o) => ({ id: o.id ?? '', displayName: o.displayName ?? null }));
  for (const role of transitive.map(adminRoleOf)) {
    if (!role || direct.has(role)) continue;
    adminRoles.add(role);
    adminRoleGroups.set(role, assignable);
  }
  return { adminRoles, adminRoleGroups };
}

/** Microsoft Entra ID through Microsoft Graph v1.0: one method per remote operation. */
export class GraphDirectoryGateway implements DirectoryGateway {
  private readonly graph: GraphClient;

  constructor(options: GraphDirectoryOptions) {
    this.graph = new GraphClient(options);
  }

  // ── reads ──────────────────────────────────────────────────────────────────────────────────

  async *listUsers(options: ListUsersOptions = {}): Pages<DirectoryUser> {
    let yielded = false;
    try {
      for await (const users of this.userPages(AUDIT_USER_SELECT.join(','), AUDIT_USER_PAGE_SIZE)) {
        yielded = true;
        yield users;
      }
    } catch (error) {
      // L2: a tenant without Entra ID P1 (or without AuditLog.Read.All) refuses the first page;
      // the listing goes on without signInActivity, and the caller is told why.
      if (yielded || !isSignInActivityRefusal(error)) throw error;
      options.onSignInActivityRefused?.(error.message);
      yield* this.userPages(userSelect, GRAPH_PAGE_SIZE);
    }
  }

  private async *userPages(select: string, top: number): Pages<DirectoryUser> {
    const url = `/users${query({ $select: select, $top: top })}`;
    // The pages form a chain (each link is in the page before): the next page is requested as soon
    // as its link is known, so converting and consuming a page overlaps the next round trip.
    const pool = new StringPool();
    for await (const page of this.graph.pages<WireUser>('listUsers', url, undefined, { lane: 'chain', prefetch: true })) {
      const users: DirectoryUser[] = new Array(page.length);
      for (let i = 0; i < page.length; i++) users[i] = toDirectoryUser(page[i]!, pool);
      yield users;
    }
  }

  // ── changes (SPEC §9) ────────────────────────────────────────────────────────────────────────

  async *userChanges(from: string | 'latest'): DeltaPages<DirectoryUser> {
    const first = from === 'latest' ? `/users/delta${query({ $select: DELTA_USER_SELECT.join(','), $deltatoken: 'latest' })}` : from;
    const pool = new StringPool();
    for await (const page of this.deltaPages<WireDeltaObject<WireUser>>('userChanges', first)) {
      yield {
        entries: page.items.map((u): DeltaEntry<DirectoryUser> => (u['@removed'] ? { kind: 'removed', id: u.id ?? '' } : { kind: 'upsert', item: toDirectoryUser(u, pool) })),
        deltaLink: page.deltaLink,
      };
    }
  }

  async *groupChanges(groupIds: readonly string[], from: string | 'latest'): DeltaPages<GroupChange> {
    if (groupIds.length > GROUP_DELTA_IDS) throw new RangeError(`groupChanges: at most ${GROUP_DELTA_IDS} groups a round`);
    const filter = groupIds.map((id) => `id eq ${odataString(id)}`).join(' or ');
    const first = from === 'latest' ? `/groups/delta${query({ $filter: filter, $select: 'displayName,members', $deltatoken: 'latest' })}` : from;
    for await (const page of this.deltaPages<WireDeltaObject<WireDirectoryObject>>('groupChanges', first)) {
      yield {
        entries: page.items.map((g): DeltaEntry<GroupChange> => {
          if (g['@removed']) return { kind: 'removed', id: g.id ?? '' };
          const members = g['members@delta'] ?? [];
          return {
            kind: 'upsert',
            item: {
              id: g.id ?? '',
              displayName: g.displayName ?? null,
              membersAdded: members.filter((m) => !m['@removed']).map(toGroupMember),
              membersRemoved: members.filter((m) => m['@removed']).map((m) => m.id ?? ''),
            },
          };
        }),
        deltaLink: page.deltaLink,
      };
    }
  }

  /** A delta round's pages (`@odata.nextLink` to the `@odata.deltaLink`), on the chain lane. */
  private async *deltaPages<T>(operation: string, first: string): AsyncIterable<{ items: T[]; deltaLink?: string }> {
    checkDeltaLinkOrigin('graph', operation, first, this.graph.baseUrl);
    for (let link: string | undefined = first; link; ) {
      const page: ODataCollection<T> & { '@odata.deltaLink'?: string } = await this.graph.get(operation, link, undefined, 'chain', DELTA_PAGE_HEADERS);
      link = page['@odata.nextLink'];
      yield { items: page.value ?? [], deltaLink: page['@odata.deltaLink'] };
    }
  }

  async getUser(idOrUpn: string): Promise<DirectoryUser | null> {
    try {
      return toDirectoryUser(await this.graph.get<WireUser>('getUser', `${userPath(idOrUpn)}${query({ $select: userSelect })}`, idOrUpn));
    } catch (error) {
      if (error instanceof ServiceError && error.status === 404) return null;
      throw error;
    }
  }

  async findUserByUpn(userPrincipalName: string): Promise<DirectoryUser | null> {
    const filter = `userPrincipalName eq ${odataString(userPrincipalName)}`;
    const page = await this.graph.get<ODataCollection<WireUser>>('findUserByUpn', `/users${query({ $filter: filter, $select: userSelect })}`, userPrincipalName);
    const user = page.value?.[0];
    return user ? toDirectoryUser(user) : null;
  }

  async *listSubscribedSkus(): Pages<SubscribedSku> {
    for await (const page of this.graph.pages<GraphSubscribedSku>('listSubscribedSkus', '/subscribedSkus')) yield page.map(toSubscribedSku);
  }

  /**
   * Who holds the three admin roles (D4.2 i, A2), paged to the end (R2). A role-assignable group
   * holding a role is one assignment; its direct members hold the role (U5: group nesting is not
   * possible in a role-assignable group, so direct members are all of them).
   */
  async getAdminRoleMembers(): Promise<AdminRoleMembers> {
    const operation = 'getAdminRoleMembers';
    const roles = Object.keys(ADMIN_ROLE_TEMPLATE_IDS) as AdminRole[];
    const responses = await this.graph.batch(operation, adminRoleAssignmentRequests(roles));
    const groupMembers = new Map<string, Promise<GroupMember[]>>();
    const membersOf = (groupId: string) => {
      let members = groupMembers.get(groupId);
      if (!members) groupMembers.set(groupId, (members = allPages(this.listGroupMembers(groupId))));
      return members;
    };
    const result = {} as AdminRoleMembers;
    await Promise.all(
      roles.map(async (role) => {
        const assignments = await this.graph.itemCollection<WireRoleAssignment>(operation, responses.get(role)!);
        const holders = new Set<string>();
        const groups: string[] = [];
        for (const assignment of assignments) {
          const kind = assignment.principal ? memberKind(assignment.principal) : 'other';
          const id = assignment.principalId ?? assignment.principal?.id;
          if (!id) continue;
          if (kind === 'user') holders.add(id);
          else if (kind === 'group') groups.push(id);
        }
        for (const members of await Promise.all(groups.map(membersOf))) for (const m of members) if (m.kind === 'user') holders.add(m.id);
        result[role] = holders;
      }),
    );
    return result;
  }

  async getSecurityGroups(groupIds: readonly string[]): Promise<Map<string, SecurityGroup>> {
    const operation = 'getSecurityGroups';
    const ids = [...new Set(groupIds)];
    const items: BatchRequestItem[] = ids.flatMap((id, i) => [
      { id: `g${i}`, method: 'GET', url: `${groupPath(id)}${query({ $select: 'id,displayName' })}` },
      { id: `m${i}`, method: 'GET', url: `${groupPath(id)}/members${query({ $select: MEMBER_SELECT, $top: GRAPH_PAGE_SIZE })}` },
      { id: `o${i}`, method: 'GET', url: `${groupPath(id)}/owners${query({ $select: 'id', $top: GRAPH_PAGE_SIZE })}` },
    ]);
    const responses = await this.graph.batch(operation, items);
    const groups = new Map<string, SecurityGroup>();
    await Promise.all(
      ids.map(async (id, i) => {
        const group = responses.get(`g${i}`)!;
        if (group.status === 404) return; // unknown ids are absent
        if (!isOk(group.status)) throw this.graph.itemError(operation, group, id);
        const members = await this.graph.itemCollection<WireDirectoryObject>(operation, responses.get(`m${i}`)!, id);
        const owners = await this.graph.itemCollection<WireDirectoryObject>(operation, responses.get(`o${i}`)!, id);
        const body = group.body as { id?: string; displayName?: string | null };
        groups.set(id, {
          id: body.id ?? id,
          displayName: body.displayName ?? '',
          members: members.map(toGroupMember),
          ownerIds: owners.map((o) => o.id ?? '').filter((o) => o !== ''),
        });
      }),
    );
    return groups;
  }

  async *listGroupMembers(groupId: string): Pages<GroupMember> {
    const url = `${groupPath(groupId)}/members${query({ $select: MEMBER_SELECT, $top: GRAPH_PAGE_SIZE })}`;
    for await (const page of this.graph.pages<WireDirectoryObject>('listGroupMembers', url, groupId)) yield page.map(toGroupMember);
  }

  /**
   * Everything diagnose needs about one user, in one `$batch`: the user, direct and transitive
   * memberships (groups and directory roles), the tenant's SKUs, and the security group's name,
   * owners and nested groups. Only collections longer than a page cost further requests.
   */
  async getUserAccessFacts(idOrUpn: string, securityGroupId: string | null): Promise<UserAccessFacts> {
    const user = userPath(idOrUpn);
    const items: BatchRequestItem[] = [
      { id: 'user', method: 'GET', url: `${user}${query({ $select: userSelect })}` },
      { id: 'memberOf', method: 'GET', url: `${user}/memberOf${query({ $top: GRAPH_PAGE_SIZE })}` },
      { id: 'transitiveMemberOf', method: 'GET', url: `${user}/transitiveMemberOf${query({ $top: GRAPH_PAGE_SIZE })}` },
      { id: 'skus', method: 'GET', url: '/subscribedSkus' },
    ];
    if (securityGroupId) {
      const group = groupPath(securityGroupId);
      items.push(
        { id: 'group', method: 'GET', url: `${group}${query({ $select: 'id,displayName' })}` },
        { id: 'owners', method: 'GET', url: `${group}/owners${query({ $select: 'id', $top: GRAPH_PAGE_SIZE })}` },
        { id: 'nestedGroups', method: 'GET', url: `${group}/members/microsoft.graph.group${query({ $select: MEMBER_SELECT, $top: GRAPH_PAGE_SIZE })}` },
      );
    }
    const responses = await this.graph.batch('getUserAccessFacts', items, idOrUpn);
    return this.accessFacts(responses, idOrUpn, securityGroupId);
  }

  /** The answers of `getUserAccessFacts`' batch, read into the facts (further pages fetched). */
  private async accessFacts(responses: Map<string, BatchResponseItem>, idOrUpn: string, securityGroupId: string | null): Promise<UserAccessFacts> {
    const operation = 'getUserAccessFacts';
    const get = (id: string) => responses.get(id)!;
    /** A collection item; 404 (the user or group does not exist) reads as empty. */
    const list = async <T>(id: string): Promise<T[]> => {
      const response = responses.get(id);
      if (!response || response.status === 404) return [];
      return this.graph.itemCollection<T>(operation, response, idOrUpn);
    };

    const userResponse = get('user');
    if (!isOk(userResponse.status) && userResponse.status !== 404) throw this.graph.itemError(operation, userResponse, idOrUpn);
    const [memberOf, transitive, skus, owners, nested] = await Promise.all([
      list<WireDirectoryObject>('memberOf'),
      list<WireDirectoryObject>('transitiveMemberOf'),
      this.graph.itemCollection<GraphSubscribedSku>(operation, get('skus'), idOrUpn),
      list<WireDirectoryObject>('owners'),
      list<WireDirectoryObject>('nestedGroups'),
    ]);

    let securityGroupName: string | null = null;
    if (securityGroupId) {
      const group = get('group');
      if (isOk(group.status)) securityGroupName = (group.body as { displayName?: string | null }).displayName ?? null;
      else if (group.status !== 404) throw this.graph.itemError(operation, group, securityGroupId);
    }
    const directGroupIds = memberOf.filter((o) => memberKind(o) === 'group').map((o) => o.id ?? '');
    const direct = new Set(directGroupIds);
    const { adminRoles, adminRoleGroups } = adminRolesOfUser(memberOf, transitive);
    return {
      user: isOk(userResponse.status) ? toDirectoryUser(userResponse.body as WireUser) : null,
      skus: skus.map(toSubscribedSku),
      directGroupIds,
      nestedGroups: transitive
        .filter((o) => memberKind(o) === 'group' && !direct.has(o.id ?? ''))
        .map((o) => ({ id: o.id ?? '', displayName: o.displayName ?? null })),
      adminRoles,
      adminRoleGroups,
      securityGroupOwnerIds: owners.map((o) => o.id ?? '').filter((id) => id !== ''),
      securityGroupNestedGroups: nested.filter((o) => memberKind(o) === 'group').map(toGroupMember),
      securityGroupName,
    };
  }

  // ── writes ─────────────────────────────────────────────────────────────────────────────────

  async createUser(input: NewDirectoryUser): Promise<DirectoryUser> {
    const profile = {
      accountEnabled: true,
      displayName: input.displayName,
      mailNickname: input.mailNickname,
      userPrincipalName: input.userPrincipalName,
      ...(input.givenName !== undefined ? { givenName: input.givenName } : {}),
      ...(input.surname !== undefined ? { surname: input.surname } : {}),
      ...(input.jobTitle !== undefined ? { jobTitle: input.jobTitle } : {}),
      ...(input.department !== undefined ? { department: input.department } : {}),
      ...(input.usageLocation !== undefined ? { usageLocation: input.usageLocation } : {}),
    };
    // U1: the password goes into the request body only; it is never logged or kept.
    const body = { ...profile, passwordProfile: { password: input.password, forceChangePasswordNextSignIn: input.forceChangePasswordNextSignIn } };
    const created = await this.graph.post<Partial<WireUser>>('createUser', '/users', body, input.userPrincipalName);
    // The answer carries the default properties only; what we sent fills the rest.
    return toDirectoryUser({ userType: 'Member', assignedLicenses: [], onPremisesSyncEnabled: null, ...profile, ...created });
  }

  async assignLicenses(userId: string, add: readonly string[], remove: readonly string[]): Promise<void> {
    const body = { addLicenses: add.map((skuId) => ({ skuId, disabledPlans: [] })), removeLicenses: [...remove] };
    await this.graph.post('assignLicenses', `${userPath(userId)}/assignLicense`, body, userId);
  }

  /** Idempotent: a user who already is a member is left as is. */
  async addGroupMember(groupId: string, userId: string): Promise<void> {
    try {
      await this.graph.post('addGroupMember', `${groupPath(groupId)}/members/$ref`, { '@odata.id': DIRECTORY_OBJECTS + encodeURIComponent(userId) }, groupId);
    } catch (error) {
      // Graph has no code of its own for this refusal; its message is the only tell.
      if (error instanceof ServiceError && error.status === 400 && /added object references already exist/i.test(error.message)) return;
      throw error;
    }
  }

  /** Idempotent: removing a user who is not a member of an existing group succeeds. */
  async removeGroupMember(groupId: string, userId: string): Promise<void> {
    try {
      await this.graph.delete('removeGroupMember', `${groupPath(groupId)}/members/${pathSegment(userId)}/$ref`, groupId);
    } catch (error) {
      if (!(error instanceof ServiceError) || error.status !== 404) throw error;
      // 404 means "no such member" or "no such group": only the second is a failure.
      try {
        await this.graph.get('removeGroupMember', `${groupPath(groupId)}${query({ $select: 'id' })}`, groupId);
      } catch {
        throw error;
      }
    }
  }
}
