import { z } from 'zod';
import { assignRole } from '../../operations/assign-role.js';
import { disableUser } from '../../operations/disable-user.js';
import { enableUser, userRowStatus } from '../../operations/enable-user.js';
import { setAccessMode } from '../../operations/set-access-mode.js';
import { syncUser } from '../../operations/sync-user.js';
import {
  changesAnswer,
  directoryUserAnswer,
  environmentAnswer,
  field,
  maybeSystemUserAnswer,
  oneOf,
  record,
  stillEnabledInAnswer,
  systemUserAnswer,
  text,
  texts,
  userRefAnswer,
  warningsAnswer,
  yesNo,
} from '../answer-schemas.js';
import { defineRoute, json, type RouteDoc } from '../pipeline.js';
import { environmentId, flag, optionalBody, roleReference, skuReference, userReference } from '../validation.js';

/**
 * The routes on one user in one environment: enable, its status, disable, access mode, sync, roles.
 *
 * Long operations follow the pattern Power Automate polls: enable (and sync) answer 202 with
 * `Location` and `Retry-After` while the systemuser row is not there yet; the Location is
 * `GET /api/environments/{env}/users/{user}/enable-status` (`?until=present` after a sync), which
 * answers 202 again while waiting and 200 with the row once it is enabled (or present).
 */

const RETRY_AFTER_SECONDS = '10';

const userInEnvironment = z.object({ env: environmentId, user: userReference }).strict();

const enableBody = optionalBody(
  z
    .object({
      license: skuReference
        .nullish()
        .transform((value) => value ?? undefined)
        .meta({ title: 'License', description: 'A SKU part number or SKU id to assign first, when the user needs an environment license.' }),
    })
    .strict(),
);

const removeLicenses = flag.meta({ title: 'Remove Licenses', description: 'True to also remove the licenses only this environment needed (E2).' });

const disableBody = optionalBody(z.object({ removeLicenses }).strict());

const accessModeBody = z
  .object({
    accessMode: z.enum(['read-write', 'administrative', 'non-interactive'], {
      message: 'expected read-write, administrative or non-interactive',
    }).meta({ title: 'Access Mode', description: 'The access mode to set: read-write, administrative or non-interactive.' }),
    removeLicenses,
  })
  .strict();

const roleBody = z.object({ role: roleReference }).strict();

const statusQuery = z.object({
  until: z
    .enum(['enabled', 'present'], { message: 'expected enabled or present' })
    .default('enabled')
    .meta({ title: 'Until', description: 'What to wait for: the row enabled, or only present.', 'x-ms-visibility': 'internal' }),
  /** R5: set by enable while a licence propagates; the poll asks the admin API again until then. */
  licenseDeadline: z.iso
    .datetime({ message: 'expected an ISO date-time' })
    .optional()
    .meta({ title: 'License Deadline', description: 'Set by Enable user while a licence propagates; the poll keeps asking until then.', 'x-ms-visibility': 'internal' }),
});

type Until = 'enabled' | 'present';

function statusPath(env: string, userId: string, until: Until, licenseDeadline?: string): string {
  const query = new URLSearchParams({ ...(until === 'present' ? { until } : {}), ...(licenseDeadline ? { licenseDeadline } : {}) }).toString();
  return `environments/${encodeURIComponent(env)}/users/${encodeURIComponent(userId)}/enable-status${query ? `?${query}` : ''}`;
}

/** 200 once the row is as asked; until then 202, with where and when to poll. */
function answerOrPoll<R extends { user: { id: string }; licenseDeadline?: string }>(
  result: R,
  ready: boolean,
  until: Until,
  { params, link }: { params: { env: string }; link: (path: string) => string },
) {
  if (ready) return json(200, result);
  return json(202, result, { location: link(statusPath(params.env, result.user.id, until, result.licenseDeadline)), 'retry-after': RETRY_AFTER_SECONDS });
}

/**
 * `environments/{env}/users/{user}/<action>`, both ids validated: the GET reads (Steward.Read);
 * every other method changes the user (Steward.Manage, a mutation: Idempotency-Key, read-only mode).
 */
function onUserInEnvironment(method: 'GET' | 'POST' | 'PUT', action: string) {
  const changes = method !== 'GET';
  return {
    methods: [method],
    route: `environments/{env}/users/{user}/${action}`,
    role: changes ? ('Steward.Manage' as const) : ('Steward.Read' as const),
    mutation: changes,
    params: userInEnvironment,
  };
}

// ── Answers (lib/operations results) ─────────────────────────────────────────────────────────

const licenseDeadlineAnswer = text('License Deadline', 'While a licence propagates: until when the status poll keeps asking the admin service to add the user (ISO time).').optional();

/** enable (200 when enabled, 202 while pending: the same body) and its status poll. */
export const enableAnswer = record({
  state: oneOf(['enabled', 'pending'], 'State', 'enabled, or pending while the row is being added.'),
  licenseDeadline: licenseDeadlineAnswer,
  user: directoryUserAnswer,
  environment: environmentAnswer,
  systemUser: maybeSystemUserAnswer,
  changes: changesAnswer,
  warnings: warningsAnswer,
});

export const enableStatusAnswer = record({
  state: oneOf(['enabled', 'present', 'pending'], 'State', 'enabled or present once the row is as asked, else pending.'),
  licenseDeadline: licenseDeadlineAnswer,
  environment: environmentAnswer,
  user: userRefAnswer,
  systemUser: maybeSystemUserAnswer,
});

export const disableAnswer = record({
  state: oneOf(['disabled', 'disable-pending-sync'], 'State', 'disabled, or disable-pending-sync until the environment syncs the group change.'),
  environment: environmentAnswer,
  user: userRefAnswer,
  removedFromSecurityGroup: yesNo('Removed From Security Group', 'True when this call removed the user from the security group.'),
  licensesRemoved: texts('Licenses Removed', 'Part numbers of the licences removed.'),
  stillEnabledIn: stillEnabledInAnswer,
  systemUser: maybeSystemUserAnswer,
  changes: changesAnswer,
  warnings: warningsAnswer,
});

export const accessModeAnswer = record({
  environment: environmentAnswer,
  user: userRefAnswer,
  previousAccessMode: text('Previous Access Mode', 'The access mode before this call.'),
  changed: yesNo('Changed', 'True when this call changed the access mode.'),
  licensesRemoved: texts('Licenses Removed', 'Part numbers of the licences removed.'),
  stillEnabledIn: stillEnabledInAnswer,
  systemUser: systemUserAnswer,
  warnings: warningsAnswer,
});

export const syncAnswer = record({
  state: oneOf(['present', 'pending'], 'State', 'present once the row exists, else pending.'),
  environment: environmentAnswer,
  user: userRefAnswer,
  systemUser: maybeSystemUserAnswer,
});

export const assignRoleAnswer = record({
  environment: environmentAnswer,
  user: userRefAnswer,
  role: field(record({ id: text('Role ID', 'The id of the role.'), name: text('Role Name', 'The name of the role.') }), 'Role', 'The security role.'),
  assigned: yesNo('Assigned', 'True when this call assigned the role, false when the user already had it.'),
  systemUser: systemUserAnswer,
});

const doc = (operationId: string, summary: string, description: string, answer: z.ZodType, more: Partial<RouteDoc> = {}): RouteDoc => ({
  operationId,
  summary,
  description,
  answer,
  ...more,
});

/** The path's two ids as the use cases name them. */
const userIn = (params: { env: string; user: string }) => ({ environmentId: params.env, user: params.user });

export const environmentUserRoutes = [
  defineRoute({
    name: 'environment-users-enable',
    doc: doc('EnableUser', 'Enable a user in an environment', 'Adds the user to the environment security group, with a license if asked, and forces the sync; answers 202 until the row is enabled.', enableAnswer, { polls: true }),
    ...onUserInEnvironment('POST', 'enable'),
    body: enableBody,
    async run({ params, body, services, link }) {
      const result = await enableUser(services, { ...userIn(params), license: body.license });
      return answerOrPoll(result, result.state === 'enabled', 'enabled', { params, link });
    },
  }),

  defineRoute({
    name: 'environment-users-enable-status',
    doc: doc('GetEnableStatus', 'Get the enable status of a user', 'Reads whether the systemuser row of the user is enabled (or present); this is where Enable user and Sync user point their Location header.', enableStatusAnswer, { polls: true, visibility: 'internal' }),
    ...onUserInEnvironment('GET', 'enable-status'),
    query: statusQuery,
    async run({ params, query, services, link }) {
      const licenseDeadline = query.licenseDeadline ? new Date(query.licenseDeadline) : undefined;
      const result = await userRowStatus(services, { ...userIn(params), until: query.until, licenseDeadline });
      return answerOrPoll({ ...result, licenseDeadline: query.licenseDeadline }, result.state !== 'pending', query.until, { params, link });
    },
  }),

  defineRoute({
    name: 'environment-users-disable',
    doc: doc('DisableUser', 'Disable a user in an environment', 'Removes the user from the environment security group and, when asked, the licenses only this environment needed.', disableAnswer),
    ...onUserInEnvironment('POST', 'disable'),
    body: disableBody,
    async run({ params, body, services }) {
      return json(200, await disableUser(services, { ...userIn(params), removeLicenses: body.removeLicenses }));
    },
  }),

  defineRoute({
    name: 'environment-users-access-mode',
    doc: doc('SetAccessMode', 'Set the access mode of a user', 'Sets the access mode of the user in the environment, keeping the cap of 7 non-interactive users.', accessModeAnswer),
    ...onUserInEnvironment('PUT', 'access-mode'),
    body: accessModeBody,
    async run({ params, body, services }) {
      return json(200, await setAccessMode(services, { ...userIn(params), accessMode: body.accessMode, removeLicenses: body.removeLicenses }));
    },
  }),

  defineRoute({
    name: 'environment-users-sync',
    doc: doc('SyncUser', 'Sync a user to an environment', 'Adds or refreshes the systemuser row of the user from Entra; answers 202 until the row is there.', syncAnswer, { polls: true }),
    ...onUserInEnvironment('POST', 'sync'),
    async run({ params, services, link }) {
      const result = await syncUser(services, userIn(params));
      return answerOrPoll(result, result.state === 'present', 'present', { params, link });
    },
  }),

  defineRoute({
    name: 'environment-users-roles',
    doc: doc('AssignRole', 'Assign a security role to a user', 'Assigns a security role of the environment, by name or id, to the user.', assignRoleAnswer),
    ...onUserInEnvironment('POST', 'roles'),
    body: roleBody,
    target: ({ body }) => ({ role: body.role }),
    async run({ params, body, services }) {
      return json(200, await assignRole(services, { ...userIn(params), role: body.role }));
    },
  }),
];
