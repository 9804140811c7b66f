/**
 * The Microsoft Graph application permissions Steward needs, each with the calls that need it
 * (lib/gateways/graph), the least privileged one first and the broader ones that also cover it.
 * docs/setup.md explains each, with Microsoft's reference page; `steward doctor` reads the `roles`
 * claim of Steward's Graph token against this list.
 */

export interface GraphPermissionNeed {
  /** The least privileged application permission for these calls. */
  permission: string;
  /** Broader permissions that include it (a tenant may have granted one of those instead). */
  alsoCoveredBy: readonly string[];
  /** Needed by the user operations only: a read-only deployment (`STEWARD_READ_ONLY`) does without. */
  writes: boolean;
  /** The Graph calls that need it. */
  calls: readonly string[];
  /** Microsoft's reference page for those calls' permissions. */
  docs: string;
}

export const GRAPH_PERMISSIONS: readonly GraphPermissionNeed[] = [
  {
    permission: 'User.Read.All',
    alsoCoveredBy: ['User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    writes: false,
    calls: ['GET /users', 'GET /users/{id}', 'GET /users/delta', 'GET /users/{id}/memberOf', 'GET /users/{id}/transitiveMemberOf'],
    docs: 'https://learn.microsoft.com/graph/api/user-list',
  },
  {
    permission: 'GroupMember.Read.All',
    alsoCoveredBy: ['GroupMember.ReadWrite.All', 'Group.Read.All', 'Group.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    writes: false,
    calls: ['GET /groups/{id}', 'GET /groups/{id}/members', 'GET /groups/{id}/owners', 'GET /groups/delta'],
    docs: 'https://learn.microsoft.com/graph/api/group-list-members',
  },
  {
    permission: 'LicenseAssignment.Read.All',
    alsoCoveredBy: ['LicenseAssignment.ReadWrite.All', 'Organization.Read.All', 'Organization.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    writes: false,
    calls: ['GET /subscribedSkus'],
    docs: 'https://learn.microsoft.com/graph/api/subscribedsku-list',
  },
  {
    permission: 'RoleManagement.Read.Directory',
    alsoCoveredBy: ['RoleManagement.Read.All', 'RoleManagement.ReadWrite.Directory', 'Directory.Read.All', 'Directory.ReadWrite.All'],
    writes: false,
    calls: ['GET /roleManagement/directory/roleAssignments?$expand=principal'],
    docs: 'https://learn.microsoft.com/graph/api/rbacapplication-list-roleassignments',
  },
  {
    permission: 'AuditLog.Read.All',
    alsoCoveredBy: [],
    writes: false,
    calls: ['GET /users?$select=signInActivity (L2: entra.inactive-licensed-user)'],
    docs: 'https://learn.microsoft.com/graph/api/resources/signinactivity',
  },
  {
    // assignLicense: "Application: User.ReadWrite.All; higher: Directory.ReadWrite.All" (user-assignlicense).
    permission: 'User.ReadWrite.All',
    alsoCoveredBy: ['Directory.ReadWrite.All'],
    writes: true,
    calls: ['POST /users (create-user)', 'POST /users/{id}/assignLicense (create-user, enable, disable, access-mode)'],
    docs: 'https://learn.microsoft.com/graph/api/user-post-users',
  },
  {
    permission: 'GroupMember.ReadWrite.All',
    alsoCoveredBy: ['Group.ReadWrite.All', 'Directory.ReadWrite.All'],
    writes: true,
    calls: ['POST /groups/{id}/members/$ref (create-user, enable)', 'DELETE /groups/{id}/members/{id}/$ref (disable)'],
    docs: 'https://learn.microsoft.com/graph/api/group-post-members',
  },
];

/** The permissions a deployment needs: all, or the read ones when it is read-only. */
export function neededGraphPermissions(readOnly: boolean): GraphPermissionNeed[] {
  return GRAPH_PERMISSIONS.filter((need) => !readOnly || !need.writes);
}

/** Whether the granted roles cover a need (the permission itself or a broader one). */
export function grantedFor(need: GraphPermissionNeed, roles: ReadonlySet<string>): string | undefined {
  return [need.permission, ...need.alsoCoveredBy].find((permission) => roles.has(permission));
}

/** Permissions that change the directory, held by a read-only deployment (least privilege says drop them). */
export function superfluousWritePermissions(roles: ReadonlySet<string>): string[] {
  const writing = ['User.ReadWrite.All', 'GroupMember.ReadWrite.All', 'Group.ReadWrite.All', 'LicenseAssignment.ReadWrite.All', 'Directory.ReadWrite.All', 'RoleManagement.ReadWrite.Directory', 'Organization.ReadWrite.All'];
  return writing.filter((permission) => roles.has(permission));
}
