import { z } from 'zod';
import { activateIntegrationUser } from '../../operations/activate-integration-user.js';
import { defineRoute, json } from '../pipeline.js';
import { salesforceOrgId } from '../validation.js';

/** `POST /api/salesforce/{org}/integration-user/activate` — remediation of S1. */

export const salesforceRoutes = [
  defineRoute({
    name: 'salesforce-integration-user-activate',
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
