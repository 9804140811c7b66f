import { z } from 'zod';

/**
 * The building blocks of the routes' answer schemas (`doc.answer` of each route in
 * lib/http/handlers). One zod schema per answer serves twice: the OpenAPI document and the
 * connector describe it (every property with a title, shown by Power Automate as `x-ms-summary`,
 * and a description), and the end-to-end tests parse every success body with it. Objects are
 * open (`looseObject`): a field added later does not break a flow built on the older document.
 */

/** A property with the name a flow shows (Title Case) and what it holds (a sentence). */
export function field<T extends z.ZodType>(schema: T, title: string, description: string): T {
  return schema.meta({ title, description }) as T;
}

/** An object answer or part of one: every property documented, extra properties allowed. */
export const record = <S extends z.ZodRawShape>(shape: S) => z.looseObject(shape);

export const text = (title: string, description: string) => field(z.string(), title, description);
export const maybeText = (title: string, description: string) => field(z.string().nullable(), title, description);
export const yesNo = (title: string, description: string) => field(z.boolean(), title, description);
export const count = (title: string, description: string) => field(z.number().int(), title, description);
export const texts = (title: string, description: string) => field(z.array(z.string()), title, description);
export const list = <T extends z.ZodType>(items: T, title: string, description: string) => field(z.array(items), title, description);
export const oneOf = <const V extends readonly [string, ...string[]]>(values: V, title: string, description: string) =>
  field(z.enum(values), title, description);

/** `{ id, displayName, securityGroupId }` of lib/operations/views.ts `environmentView`. */
export const environmentAnswer = field(
  record({
    id: text('Environment ID', 'The Power Platform environment id.'),
    displayName: text('Environment Name', 'The display name of the environment.'),
    securityGroupId: maybeText('Security Group ID', 'The Entra group that gates access to the environment, or null when there is none.'),
  }),
  'Environment',
  'The environment the operation acted on.',
);

/** lib/operations/views.ts `DirectoryUserView`: the account as the directory has it. */
export const directoryUserAnswer = field(
  record({
    id: text('User ID', 'The Entra object id of the user.'),
    userPrincipalName: text('User Principal Name', 'The sign-in name of the user.'),
    displayName: text('Display Name', 'The name shown for the user.'),
    givenName: maybeText('Given Name', 'The first name of the user, or null.'),
    surname: maybeText('Surname', 'The last name of the user, or null.'),
    jobTitle: maybeText('Job Title', 'The job title of the user, or null.'),
    usageLocation: maybeText('Usage Location', 'The two-letter country code where the user works, or null.'),
    accountEnabled: yesNo('Account Enabled', 'True when the account can sign in.'),
    userType: oneOf(['Member', 'Guest'], 'User Type', 'Member or Guest.'),
    onPremisesSyncEnabled: field(z.boolean().nullable(), 'Synced From On-Premises', 'True when the account is synced from on-premises Active Directory, else null or false.'),
    licenses: list(
      record({
        skuId: text('SKU ID', 'The id of the licence.'),
        skuPartNumber: maybeText('SKU Part Number', 'The part number of the licence, or null when the tenant does not list it.'),
      }),
      'Licenses',
      'The licences the user holds.',
    ),
  }),
  'User',
  'The Entra account.',
);

export const userRefAnswer = field(
  record({
    id: text('User ID', 'The Entra object id of the user.'),
    userPrincipalName: text('User Principal Name', 'The sign-in name of the user.'),
  }),
  'User',
  'The Entra user the operation acted on.',
);

export const nameRef = (title: string, description: string) =>
  field(
    record({
      id: text('ID', 'The id.'),
      name: text('Name', 'The name.'),
    }),
    title,
    description,
  );

/** lib/operations/views.ts `SystemUserView`: a Dataverse systemuser row in domain words. */
const systemUserShape = {
  id: text('System User ID', 'The id of the Dataverse systemuser row.'),
  entraObjectId: maybeText('Entra Object ID', 'The Entra object id the row is linked to, or null.'),
  domainName: maybeText('Domain Name', 'The user principal name Dataverse holds for the row, or null.'),
  applicationId: maybeText('Application ID', 'The app registration id of an application user, or null for a person.'),
  accessMode: oneOf(
    ['read-write', 'administrative', 'read', 'support-user', 'non-interactive', 'delegated-admin', 'unknown'],
    'Access Mode',
    'The access mode of the row by name.',
  ),
  accessModeValue: count('Access Mode Value', 'The access mode of the row as Dataverse numbers it.'),
  isDisabled: yesNo('Is Disabled', 'True when the row is disabled in the environment.'),
  isLicensed: yesNo('Is Licensed', 'True when Dataverse counts the row as licensed.'),
  businessUnitId: maybeText('Business Unit ID', 'The business unit of the row, or null.'),
  roleIds: texts('Role IDs', 'The security roles assigned directly to the row.'),
};

export const systemUserAnswer = field(record(systemUserShape), 'System User', 'The Dataverse systemuser row of the user.');
export const maybeSystemUserAnswer = field(
  record(systemUserShape).nullable(),
  'System User',
  'The Dataverse systemuser row of the user, or null while the environment has none yet.',
);

export const changesAnswer = texts('Changes', 'What this call changed, in words.');
export const warningsAnswer = texts('Warnings', 'What the caller should know or check, in words.');
export const stillEnabledInAnswer = list(
  record({
    id: text('Environment ID', 'The id of the other environment.'),
    displayName: text('Environment Name', 'The name of the other environment.'),
  }),
  'Still Enabled In',
  'Other environments where the user is still enabled and which need an environment license.',
);

/** The `{ value: [...] }` answer of a list operation: what `x-ms-dynamic-values` reads (value-collection). */
export const listAnswer = <T extends z.ZodType>(item: T, description: string) =>
  record({ value: list(item, 'Value', description) });
