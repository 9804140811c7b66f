import { defineRoute, json } from '../pipeline.js';

/**
 * Liveness and dependency status. Anonymous (a load balancer or a monitor calls it), so it says
 * nothing secret: which services are configured and whether storage answers.
 */
export const healthRoutes = [
  defineRoute({
    name: 'health',
    methods: ['GET'],
    route: 'health',
    // A liveness probe carries neither a function key nor a token, and a probe is not an
    // operation: no app role, no operation-log row.
    authLevel: 'anonymous',
    mutation: false,
    async run({ services }) {
      const started = performance.now();
      let storage: { status: 'ok' | 'failed'; latencyMs: number; error?: string };
      try {
        const table = await services.tables.table('health');
        await table.upsertEntity({ partitionKey: 'health', rowKey: 'ping', at: services.now().toISOString() });
        storage = { status: 'ok', latencyMs: Math.round(performance.now() - started) };
      } catch (error) {
        storage = { status: 'failed', latencyMs: Math.round(performance.now() - started), error: (error as Error)?.name ?? 'Error' };
      }
      const { settings } = services;
      const body = {
        status: storage.status === 'ok' ? 'healthy' : 'degraded',
        readOnly: settings.readOnly,
        dependencies: {
          storage,
          graph: { configured: true, endpoint: new URL(settings.endpoints.graph).host },
          powerPlatform: { configured: true, endpoint: new URL(settings.endpoints.powerPlatform).host },
          salesforce: { configured: settings.salesforceOrgs.length > 0, orgs: settings.salesforceOrgs.length },
          alerts: { configured: !!settings.alerts.url },
        },
      };
      return json(storage.status === 'ok' ? 200 : 503, body);
    },
  }),
];
