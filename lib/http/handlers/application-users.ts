import { z } from 'zod';
import { createApplicationUser } from '../../operations/create-application-user.js';
import { defineRoute, json } from '../pipeline.js';
import { environmentId, guid, roleReference } from '../validation.js';

/** `POST /api/environments/{env}/application-users` — T2: a systemuser for an app registration. */

const body = z
  .object({
    applicationId: guid,
    roles: z.array(roleReference).max(20, 'at most 20 roles').nullish().transform((value) => value ?? []),
  })
  .strict();

export const applicationUserRoutes = [
  defineRoute({
    name: 'application-users-create',
    methods: ['POST'],
    route: 'environments/{env}/application-users',
    role: 'Steward.Manage',
    mutation: true,
    params: z.object({ env: environmentId }).strict(),
    body,
    target: ({ body }) => ({ applicationId: body.applicationId }),
    async run({ params, body, services }) {
      const result = await createApplicationUser(services, { environmentId: params.env, applicationId: body.applicationId, roles: body.roles });
      return json(result.created ? 201 : 200, result);
    },
  }),
];
