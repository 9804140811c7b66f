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

const statusQuery = z.object({ until: z.enum(['enabled', 'present'], { message: 'expected enabled or present' }).default('enabled') });

const statusPath = (env: string, userId: string, until: 'enabled' | 'present') =>
  `environments/${encodeURIComponent(env)}/users/${encodeURIComponent(userId)}/enable-status${until === 'present' ? '?until=present' : ''}`;

/** 200 once the row is as asked; until then 202, with where and when to poll. */
function answerOrPoll<R extends { user: { id: string } }>(
  result: R,
  ready: boolean,
  poll: { env: string; until: 'enabled' | 'present'; link: (path: string) => string },
) {
  if (ready) return json(200, result);
  return json(202, result, { location: poll.link(statusPath(poll.env, result.user.id, poll.until)), 'retry-after': RETRY_AFTER_SECONDS });
}

export const environmentUserRoutes = [
  defineRoute({
    name: 'environment-users-enable',
    methods: ['POST'],
    route: 'environments/{env}/users/{user}/enable',
    role: 'Steward.Manage',
    mutation: true,
    params: userInEnvironment,
    body: enableBody,
    async run({ params, body, services, link }) {
      const result = await enableUser(services, { environmentId: params.env, user: params.user, license: body.license });
      return answerOrPoll(result, result.state === 'enabled', { env: params.env, until: 'enabled', link });
    },
  }),

  defineRoute({
    name: 'environment-users-enable-status',
    methods: ['GET'],
    route: 'environments/{env}/users/{user}/enable-status',
    role: 'Steward.Read',
    mutation: false,
    params: userInEnvironment,
    query: statusQuery,
    async run({ params, query, services, link }) {
      const result = await userRowStatus(services, { environmentId: params.env, user: params.user, until: query.until });
      return answerOrPoll(result, result.state !== 'pending', { env: params.env, until: query.until, link });
    },
  }),

  defineRoute({
    name: 'environment-users-disable',
    methods: ['POST'],
    route: 'environments/{env}/users/{user}/disable',
    role: 'Steward.Manage',
    mutation: true,
    params: userInEnvironment,
    body: disableBody,
    async run({ params, body, services }) {
      return json(200, await disableUser(services, { environmentId: params.env, user: params.user, removeLicenses: body.removeLicenses }));
    },
  }),

  defineRoute({
    name: 'environment-users-access-mode',
    methods: ['PUT'],
    route: 'environments/{env}/users/{user}/access-mode',
    role: 'Steward.Manage',
    mutation: true,
    params: userInEnvironment,
    body: accessModeBody,
    async run({ params, body, services }) {
      return json(
        200,
        await setAccessMode(services, { environmentId: params.env, user: params.user, accessMode: body.accessMode, removeLicenses: body.removeLicenses }),
      );
    },
  }),

  defineRoute({
    name: 'environment-users-sync',
    methods: ['POST'],
    route: 'environments/{env}/users/{user}/sync',
    role: 'Steward.Manage',
    mutation: true,
    params: userInEnvironment,
    async run({ params, services, link }) {
      const result = await syncUser(services, { environmentId: params.env, user: params.user });
      return answerOrPoll(result, result.state === 'present', { env: params.env, until: 'present', link });
    },
  }),

  defineRoute({
    name: 'environment-users-roles',
    methods: ['POST'],
    route: 'environments/{env}/users/{user}/roles',
    role: 'Steward.Manage',
    mutation: true,
    params: userInEnvironment,
    body: roleBody,
    target: ({ body }) => ({ role: body.role }),
    async run({ params, body, services }) {
      return json(200, await assignRole(services, { environmentId: params.env, user: params.user, role: body.role }));
    },
  }),
];
