/** The property sets of Graph's directory types, as v1.0 names them, and what each resource filters on. */

export const USER_PROPERTIES = [
  'id',
  'userPrincipalName',
  'displayName',
  'givenName',
  'surname',
  'jobTitle',
  'mail',
  'mailNickname',
  'mobilePhone',
  'businessPhones',
  'officeLocation',
  'preferredLanguage',
  'streetAddress',
  'city',
  'state',
  'country',
  'postalCode',
  'department',
  'companyName',
  'employeeId',
  'usageLocation',
  'accountEnabled',
  'userType',
  'assignedLicenses',
  'onPremisesSyncEnabled',
  'onPremisesImmutableId',
  'createdDateTime',
  'deletedDateTime',
  'creationType',
  'externalUserState',
  'otherMails',
  'proxyAddresses',
] as const;
export const USER_ARRAYS = new Set(['businessPhones', 'assignedLicenses', 'otherMails', 'proxyAddresses']);
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
