import { z } from 'zod';
import { createApplicationUser } from '../../operations/create-application-user.js';
import { environmentAnswer, list, nameRef, record, systemUserAnswer, warningsAnswer, yesNo } from '../answer-schemas.js';
import { defineRoute, json } from '../pipeline.js';
import { environmentId, guid, roleReference } from '../validation.js';

/** `POST /api/environments/{env}/application-users` — T2: a systemuser for an app registration. */

const body = z
  .object({
    applicationId: guid.meta({ title: 'Application ID', description: 'The application (client) id of the app registration.' }),
    roles: z
      .array(roleReference)
      .max(20, 'at most 20 roles')
      .nullish()
      .transform((value) => value ?? [])
      .meta({ title: 'Security Roles', description: 'Names or ids of the security roles to assign.' }),
  })
  .strict();

export const applicationUserAnswer = record({
  created: yesNo('Created', 'True when this call created the application user, false when it existed.'),
  environment: environmentAnswer,
  rolesAssigned: list(nameRef('Role', 'A security role.'), 'Roles Assigned', 'The security roles assigned by this call.'),
  systemUser: systemUserAnswer,
  warnings: warningsAnswer,
});

export const applicationUserRoutes = [
  defineRoute({
    name: 'application-users-create',
    doc: {
      operationId: 'CreateApplicationUser',
      summary: 'Create an application user',
      description: 'Creates the application user of an app registration in the environment and assigns its roles; an existing one is answered as it is.',
      answer: applicationUserAnswer,
      success: [201, 200],
    },
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
