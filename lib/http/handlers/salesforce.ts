import { z } from 'zod';
import { activateIntegrationUser } from '../../operations/activate-integration-user.js';
import { list, nameRef, record, text } from '../answer-schemas.js';
import { defineRoute, json } from '../pipeline.js';
import { salesforceOrgId } from '../validation.js';

/** `POST /api/salesforce/{org}/integration-user/activate` — remediation of S1. */

const salesforceUser = record({ id: text('User ID', 'The Salesforce user id.'), username: text('Username', 'The Salesforce username.') });

export const activateAnswer = record({
  org: nameRef('Org', 'The Salesforce org.'),
  activated: list(salesforceUser, 'Activated', 'Integration users this call activated.'),
  alreadyActive: list(salesforceUser, 'Already Active', 'Integration users that were already active.'),
});

export const salesforceRoutes = [
  defineRoute({
    name: 'salesforce-integration-user-activate',
    doc: {
      operationId: 'ActivateIntegrationUser',
      summary: 'Activate the Salesforce integration user',
      description: 'Activates the Copilot for Sales integration user of the Salesforce org (remediation of S1).',
      answer: activateAnswer,
    },
    methods: ['POST'],
    route: 'salesforce/{org}/integration-user/activate',
    role: 'Steward.Manage',
    mutation: true,
    params: z.object({ org: salesforceOrgId }).strict(),
    async run({ params, services }) {
      return json(200, await activateIntegrationUser(services, { orgId: params.org }));
    },
  }),
];
