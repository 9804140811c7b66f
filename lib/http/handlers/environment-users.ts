import { z } from 'zod';
import { assignRole } from '../../operations/assign-role.js';
import { disableUser } from '../../operations/disable-user.js';
import { enableUser, userRowStatus } from '../../operations/enable-user.js';
import { setAccessMode } from '../../operations/set-access-mode.js';
import { syncUser } from '../../operations/sync-user.js';
import { defineRoute, json } from '../pipeline.js';
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
      license: skuReference.nullish().transform((value) => value ?? undefined),
    })
    .strict(),
);

const disableBody = optionalBody(z.object({ removeLicenses: flag }).strict());

const accessModeBody = z
  .object({
    accessMode: z.enum(['read-write', 'administrative', 'non-interactive'], {
      message: 'expected read-write, administrative or non-interactive',
    }),
    removeLicenses: flag,
  })
  .strict();

const roleBody = z.object({ role: roleReference }).strict();

const statusQuery = z.object({
  until: z.enum(['enabled', 'present'], { message: 'expected enabled or present' }).default('enabled'),
  /** R5: set by enable while a licence propagates; the poll asks the admin API again until then. */
  licenseDeadline: z.iso.datetime({ message: 'expected an ISO date-time' }).optional(),
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

/** The path's two ids as the use cases name them. */
const userIn = (params: { env: string; user: string }) => ({ environmentId: params.env, user: params.user });

export const environmentUserRoutes = [
  defineRoute({
    name: 'environment-users-enable',
    ...onUserInEnvironment('POST', 'enable'),
    body: enableBody,
    async run({ params, body, services, link }) {
      const result = await enableUser(services, { ...userIn(params), license: body.license });
      return answerOrPoll(result, result.state === 'enabled', 'enabled', { params, link });
    },
  }),

  defineRoute({
    name: 'environment-users-enable-status',
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
    ...onUserInEnvironment('POST', 'disable'),
    body: disableBody,
    async run({ params, body, services }) {
      return json(200, await disableUser(services, { ...userIn(params), removeLicenses: body.removeLicenses }));
    },
  }),

  defineRoute({
    name: 'environment-users-access-mode',
    ...onUserInEnvironment('PUT', 'access-mode'),
    body: accessModeBody,
    async run({ params, body, services }) {
      return json(200, await setAccessMode(services, { ...userIn(params), accessMode: body.accessMode, removeLicenses: body.removeLicenses }));
    },
  }),

  defineRoute({
    name: 'environment-users-sync',
    ...onUserInEnvironment('POST', 'sync'),
    async run({ params, services, link }) {
      const result = await syncUser(services, userIn(params));
      return answerOrPoll(result, result.state === 'present', 'present', { params, link });
    },
  }),

  defineRoute({
    name: 'environment-users-roles',
    ...onUserInEnvironment('POST', 'roles'),
    body: roleBody,
    target: ({ body }) => ({ role: body.role }),
    async run({ params, body, services }) {
      return json(200, await assignRole(services, { ...userIn(params), role: body.role }));
    },
  }),
];
