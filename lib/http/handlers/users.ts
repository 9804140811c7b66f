import { z } from 'zod';
import { createUser } from '../../operations/create-user.js';
import { directoryUserAnswer, environmentAnswer, list, oneOf, record, text, texts, yesNo } from '../answer-schemas.js';
import { defineRoute, json } from '../pipeline.js';
import { environmentId, flag, optionalText, skuReference, userPrincipalName } from '../validation.js';

/** `POST /api/users` — joiner: an Entra account, its licenses and its environments' security groups. */

const createUserBody = z
  .object({
    userPrincipalName: userPrincipalName.meta({ title: 'User Principal Name', description: 'The sign-in name of the new user (name@domain).' }),
    displayName: z.string().trim().min(1, 'required (a display name)').max(256, 'at most 256 characters').meta({ title: 'Display Name', description: 'The name shown for the user.' }),
    givenName: optionalText(64).meta({ title: 'Given Name', description: 'The first name of the user.' }),
    surname: optionalText(64).meta({ title: 'Surname', description: 'The last name of the user.' }),
    mailNickname: z
      .string()
      .regex(/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]{1,64}$/, 'letters, digits and . - _ (no spaces or @), at most 64 characters')
      .nullish()
      .transform((value) => value ?? undefined)
      .meta({ title: 'Mail Nickname', description: 'The mail alias; derived from the user principal name when left out.', 'x-ms-visibility': 'advanced' }),
    jobTitle: optionalText(128).meta({ title: 'Job Title', description: 'The job title of the user.', 'x-ms-visibility': 'advanced' }),
    department: optionalText(64).meta({ title: 'Department', description: 'The department of the user.', 'x-ms-visibility': 'advanced' }),
    usageLocation: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'expected a two-letter country code (ISO 3166-1 alpha-2), e.g. IT')
      .nullish()
      .transform((value) => value?.toUpperCase() ?? undefined)
      .meta({ title: 'Usage Location', description: 'The two-letter country code where the user works; required with licenses.' }),
    licenses: z
      .array(skuReference)
      .max(20, 'at most 20 licenses')
      .nullish()
      .transform((value) => value ?? [])
      .meta({ title: 'Licenses', description: 'SKU part numbers or SKU ids to assign.' }),
    environments: z
      .array(environmentId)
      .max(50, 'at most 50 environments')
      .nullish()
      .transform((value) => value ?? [])
      .meta({ title: 'Environments', description: 'Environments whose security groups the user joins.' }),
    returnTemporaryPassword: flag.meta({ title: 'Return Temporary Password', description: 'True to get the temporary password once, in this answer.', 'x-ms-visibility': 'advanced' }),
  })
  .strict()
  .refine((body) => !(Array.isArray(body.licenses) && body.licenses.length > 0 && !body.usageLocation), {
    path: ['usageLocation'],
    message: 'required when licenses are given: Microsoft Graph assigns no license without a usage location',
    // Checked even when other fields are bad, so one answer names every bad field.
    when: (payload) => typeof payload.value === 'object' && payload.value !== null,
  });

/** The answer of `POST /api/users`: 201 with what was done, 200 when the UPN already existed. */
export const createUserAnswer = record({
  created: yesNo('Created', 'True when the account was created by this call, false when it already existed.'),
  user: directoryUserAnswer,
  licenses: list(
    record({ skuId: text('SKU ID', 'The id of the licence.'), skuPartNumber: text('SKU Part Number', 'The part number of the licence.') }),
    'Licenses Assigned',
    'The licences assigned by this call.',
  ).optional(),
  environments: list(
    environmentAnswer.extend({ addedToSecurityGroup: yesNo('Added To Security Group', 'True when the user was added to the security group by this call.') }),
    'Environments',
    'The environments the user joined.',
  ).optional(),
  incomplete: list(
    record({
      step: oneOf(['license', 'security-group'], 'Step', 'The step that failed: license or security-group.'),
      target: text('Target', 'The SKU or environment concerned.'),
      detail: text('Detail', 'Why the step failed.'),
    }),
    'Incomplete',
    'Steps that failed after the account existed; finish them with Enable user.',
  ).optional(),
  notes: texts('Notes', 'What the caller should know, in words.'),
  temporaryPassword: text('Temporary Password', 'The temporary password, only when asked for and only in this answer.').optional(),
});

export const userRoutes = [
  defineRoute({
    name: 'users-create',
    doc: {
      operationId: 'CreateUser',
      summary: 'Create a user',
      description: 'Creates an Entra user, assigns the licenses asked for and adds the user to the security groups of the environments given.',
      answer: createUserAnswer,
      success: [201, 200],
    },
    methods: ['POST'],
    route: 'users',
    role: 'Steward.Manage',
    mutation: true,
    body: createUserBody,
    // U1: the password is never kept with an idempotent answer.
    secretFields: ['temporaryPassword'],
    target: ({ body }) => ({ userPrincipalName: body.userPrincipalName }),
    async run({ body, services }) {
      const result = await createUser(services, body);
      return json(result.created ? 201 : 200, result);
    },
  }),
];
