import { z } from 'zod';
import { createUser } from '../../operations/create-user.js';
import { defineRoute, json } from '../pipeline.js';
import { environmentId, flag, optionalText, skuReference, userPrincipalName } from '../validation.js';

/** `POST /api/users` — joiner: an Entra account, its licenses and its environments' security groups. */

const createUserBody = z
  .object({
    userPrincipalName,
    displayName: z.string().trim().min(1, 'required (a display name)').max(256, 'at most 256 characters'),
    givenName: optionalText(64),
    surname: optionalText(64),
    mailNickname: z
      .string()
      .regex(/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]{1,64}$/, 'letters, digits and . - _ (no spaces or @), at most 64 characters')
      .nullish()
      .transform((value) => value ?? undefined),
    jobTitle: optionalText(128),
    department: optionalText(64),
    usageLocation: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'expected a two-letter country code (ISO 3166-1 alpha-2), e.g. IT')
      .nullish()
      .transform((value) => value?.toUpperCase() ?? undefined),
    licenses: z.array(skuReference).max(20, 'at most 20 licenses').nullish().transform((value) => value ?? []),
    environments: z.array(environmentId).max(50, 'at most 50 environments').nullish().transform((value) => value ?? []),
    returnTemporaryPassword: flag,
  })
  .strict()
  .refine((body) => !(Array.isArray(body.licenses) && body.licenses.length > 0 && !body.usageLocation), {
    path: ['usageLocation'],
    message: 'required when licenses are given: Microsoft Graph assigns no license without a usage location',
    // Checked even when other fields are bad, so one answer names every bad field.
    when: (payload) => typeof payload.value === 'object' && payload.value !== null,
  });

export const userRoutes = [
  defineRoute({
    name: 'users-create',
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
