import type { HttpMethod } from '@azure/functions';
import { AUDIT_FINALIZE_QUEUE, AUDIT_TARGET_QUEUE } from '../lib/gateways/storage/audit-queue.js';
import { apiRoutes } from '../lib/http/routes.js';
import { auditFinalize, auditTarget } from './audit-target.js';
import { auditNightly } from './audit-nightly.js';
import { httpHandler } from './http.js';

/**
 * Every function of the app, declared once with its trigger options. `index.ts` registers this
 * list with the Functions host; a test reads it to check the host's view of the app.
 */
export type FunctionDefinition =
  | { kind: 'http'; name: string; route: string; methods: HttpMethod[]; authLevel: 'anonymous' | 'function'; handler: ReturnType<typeof httpHandler> }
  | { kind: 'timer'; name: string; schedule: string; runOnStartup: false; handler: typeof auditNightly }
  | { kind: 'queue'; name: string; queueName: string; connection: string; handler: typeof auditTarget };

export const functionCatalog: FunctionDefinition[] = [
  ...apiRoutes.map(
    (route): FunctionDefinition => ({
      kind: 'http',
      name: route.name,
      route: route.route,
      methods: route.methods,
      authLevel: route.authLevel,
      handler: httpHandler(route),
    }),
  ),
  // The schedule is an app setting (NCRONTAB, default 02:00 UTC in local.settings.sample.json).
  { kind: 'timer', name: 'audit-nightly', schedule: '%STEWARD_AUDIT_SCHEDULE%', runOnStartup: false, handler: auditNightly },
  { kind: 'queue', name: 'audit-target', queueName: AUDIT_TARGET_QUEUE, connection: 'AzureWebJobsStorage', handler: auditTarget },
  { kind: 'queue', name: 'audit-finalize', queueName: AUDIT_FINALIZE_QUEUE, connection: 'AzureWebJobsStorage', handler: auditFinalize },
];
