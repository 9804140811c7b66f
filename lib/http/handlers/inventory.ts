import { z } from 'zod';
import { listEnvironmentRoles, listEnvironments, listEnvironmentUsers, listSalesforceOrgs } from '../../inventory/inventory.js';
import { count, listAnswer, maybeText, record, text, yesNo } from '../answer-schemas.js';
import { defineRoute, json } from '../pipeline.js';
import { environmentId } from '../validation.js';

/**
 * What a flow picks from (issue 13): the environments, the users and roles of one environment,
 * the Salesforce orgs. Each answers `{ value: [...] }`, the collection `x-ms-dynamic-values`
 * reads, so the env, user, role and org parameters of the other operations are pickers.
 * The use cases are lib/inventory's, shared with `steward list`.
 */

export const environmentsAnswer = listAnswer(
  record({
    id: text('Environment ID', 'The Power Platform environment id.'),
    displayName: text('Environment Name', 'The display name of the environment.'),
    type: text('Environment Type', 'Production, Sandbox, Developer, Trial or Default.'),
    hasDataverse: yesNo('Has Dataverse', 'True when the environment has a Dataverse database.'),
    instanceUrl: maybeText('Instance URL', 'The address of the Dataverse database, or null.'),
    securityGroupId: maybeText('Security Group ID', 'The Entra group that gates access, or null.'),
    audited: yesNo('Audited', 'False when STEWARD_ENVIRONMENTS leaves the environment out of audits.'),
  }),
  'The environments, by name.',
);

export const environmentUsersAnswer = listAnswer(
  record({
    systemUserId: text('System User ID', 'The id of the systemuser row.'),
    fullName: maybeText('Full Name', 'The name of the user, or null.'),
    domainName: maybeText('Domain Name', 'The user principal name of the row, or null for an application user.'),
    entraObjectId: maybeText('Entra Object ID', 'The Entra object id the row is linked to, or null.'),
    applicationId: maybeText('Application ID', 'The app registration id of an application user, or null.'),
    accessMode: count('Access Mode Value', 'The access mode as Dataverse numbers it.'),
    isDisabled: yesNo('Is Disabled', 'True when the row is disabled.'),
  }),
  'The systemuser rows of the environment, by name.',
);

export const environmentRolesAnswer = listAnswer(
  record({
    roleId: text('Role ID', 'The id of the security role.'),
    name: text('Role Name', 'The name of the security role.'),
    businessUnitId: maybeText('Business Unit ID', 'The business unit of the role, or null.'),
  }),
  'The security roles of the environment, by name.',
);

export const salesforceOrgsAnswer = listAnswer(
  record({
    orgId: text('Org ID', 'The Salesforce org id.'),
    name: text('Org Name', 'The name of the org.'),
    loginUrl: text('Login URL', 'The login address of the org.'),
  }),
  'The Salesforce orgs Steward has a connected app for.',
);

const inEnvironment = z.object({ env: environmentId }).strict();

export const inventoryRoutes = [
  defineRoute({
    name: 'environments-list',
    doc: {
      operationId: 'ListEnvironments',
      summary: 'List environments',
      description: 'Lists the Power Platform environments of the tenant, by name.',
      answer: environmentsAnswer,
    },
    methods: ['GET'],
    route: 'environments',
    role: 'Steward.Read',
    mutation: false,
    async run({ services }) {
      return json(200, { value: await listEnvironments(services) });
    },
  }),
  defineRoute({
    name: 'environment-users-list',
    doc: {
      operationId: 'ListEnvironmentUsers',
      summary: 'List the users of an environment',
      description: 'Lists the systemuser rows of the environment by name, those whose name or user principal name holds the search text.',
      answer: environmentUsersAnswer,
    },
    methods: ['GET'],
    route: 'environments/{env}/users',
    role: 'Steward.Read',
    mutation: false,
    params: inEnvironment,
    query: z.strictObject({
      search: z
        .string()
        .trim()
        .max(100, 'at most 100 characters')
        .optional()
        .meta({ title: 'Search', description: 'Text the name or user principal name must hold.' }),
    }),
    async run({ services, params, query }) {
      return json(200, { value: await listEnvironmentUsers(services, params.env, query.search || undefined) });
    },
  }),
  defineRoute({
    name: 'environment-roles-list',
    doc: {
      operationId: 'ListEnvironmentRoles',
      summary: 'List the security roles of an environment',
      description: 'Lists the security roles of the environment, by name.',
      answer: environmentRolesAnswer,
    },
    methods: ['GET'],
    route: 'environments/{env}/roles',
    role: 'Steward.Read',
    mutation: false,
    params: inEnvironment,
    async run({ services, params }) {
      return json(200, { value: await listEnvironmentRoles(services, params.env) });
    },
  }),
  defineRoute({
    name: 'salesforce-orgs-list',
    doc: {
      operationId: 'ListSalesforceOrgs',
      summary: 'List Salesforce orgs',
      description: 'Lists the Salesforce orgs Steward has a connected app for.',
      answer: salesforceOrgsAnswer,
    },
    methods: ['GET'],
    route: 'salesforce/orgs',
    role: 'Steward.Read',
    mutation: false,
    async run({ services }) {
      return json(200, { value: listSalesforceOrgs(services) });
    },
  }),
];
