/** The property sets of Graph's directory types, as v1.0 names them, and what each resource filters on. */

/** The user type's properties Steward or its tests meet, listed alphabetically as the v1.0 reference lists them. */
export const USER_PROPERTIES = [
  'accountEnabled',
  'assignedLicenses',
  'businessPhones',
  'city',
  'companyName',
  'country',
  'createdDateTime',
  'creationType',
  'deletedDateTime',
  'department',
  'displayName',
  'employeeId',
  'externalUserState',
  'givenName',
  'id',
  'jobTitle',
  'licenseAssignmentStates',
  'mail',
  'mailNickname',
  'mobilePhone',
  'officeLocation',
  'onPremisesImmutableId',
  'onPremisesSyncEnabled',
  'otherMails',
  'postalCode',
  'preferredLanguage',
  'proxyAddresses',
  'signInActivity',
  'state',
  'streetAddress',
  'surname',
  'usageLocation',
  'userPrincipalName',
  'userType',
] as const;
export const USER_ARRAYS = new Set(['businessPhones', 'assignedLicenses', 'licenseAssignmentStates', 'otherMails', 'proxyAddresses']);
/**
 * Returned only on `$select` and licence-gated (L2): needs Entra ID P1 and AuditLog.Read.All, and
 * selecting it lowers the maximum page size (500 in the current beta `user-list`; the v1.0 figure
 * is unconfirmed, see the gateway's AUDIT_USER_PAGE_SIZE).
 */
export const SIGN_IN_ACTIVITY = 'signInActivity';
export const SIGN_IN_ACTIVITY_MAX_PAGE = 500;
/** What `GET /users` returns without `$select`. */
export const USER_DEFAULT = ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id'];
export const USER_FILTERABLE = new Set(
  ['id', 'userPrincipalName', 'displayName', 'givenName', 'surname', 'mail', 'mailNickname', 'jobTitle', 'accountEnabled', 'userType', 'usageLocation', 'department', 'city', 'state', 'country', 'employeeId', 'onPremisesSyncEnabled', 'companyName', 'creationType'].map((p) => p.toLowerCase()),
);
/** Properties an on-premises synced user keeps from Active Directory. */
export const USER_CLOUD_WRITABLE_WHEN_SYNCED = new Set(['usageLocation', 'passwordProfile', 'preferredLanguage'].map((p) => p.toLowerCase()));

export const GROUP_PROPERTIES = [
  'id',
  'deletedDateTime',
  'classification',
  'createdDateTime',
  'description',
  'displayName',
  'groupTypes',
  'isAssignableToRole',
  'mail',
  'mailEnabled',
  'mailNickname',
  'membershipRule',
  'onPremisesSyncEnabled',
  'securityEnabled',
  'securityIdentifier',
  'visibility',
] as const;
export const GROUP_FILTERABLE = new Set(['id', 'displayName', 'securityEnabled', 'mailEnabled', 'mailNickname', 'mail'].map((p) => p.toLowerCase()));
export const ROLE_PROPERTIES = ['id', 'deletedDateTime', 'description', 'displayName', 'roleTemplateId'] as const;
export const ROLE_FILTERABLE = new Set(['id', 'roletemplateid', 'displayname']);

export const TYPE_NAMES = { user: '#microsoft.graph.user', group: '#microsoft.graph.group', role: '#microsoft.graph.directoryRole' } as const;
/** The type casts a directory-object collection accepts (`/members/microsoft.graph.user`). */
export const CASTS: Record<string, keyof typeof TYPE_NAMES> = {
  'microsoft.graph.user': 'user',
  'microsoft.graph.group': 'group',
  'microsoft.graph.directoryrole': 'role',
};
