import { z } from 'zod';
import { count, field, oneOf, record, text, yesNo } from '../answer-schemas.js';
import { defineRoute, json } from '../pipeline.js';

const configured = (title: string, description: string, more: z.ZodRawShape = {}) =>
  field(record({ configured: yesNo('Configured', 'True when the service is configured.'), ...more }), title, description);

export const healthAnswer = record({
  status: oneOf(['healthy', 'degraded'], 'Status', 'healthy, or degraded when storage does not answer (then the status is 503).'),
  readOnly: yesNo('Read Only', 'True when every mutation is refused (STEWARD_READ_ONLY).'),
  dependencies: field(
    record({
      storage: field(
        record({
          status: oneOf(['ok', 'failed'], 'Status', 'ok or failed.'),
          latencyMs: count('Latency', 'Milliseconds the storage took to answer.'),
          error: text('Error', 'The kind of error, when it failed.').optional(),
        }),
        'Storage',
        'Table Storage.',
      ),
      graph: configured('Graph', 'Microsoft Graph.', { endpoint: text('Endpoint', 'The host called.') }),
      powerPlatform: configured('Power Platform', 'The admin service of the environments.', { endpoint: text('Endpoint', 'The host called.') }),
      salesforce: configured('Salesforce', 'The Salesforce orgs.', { orgs: count('Orgs', 'How many orgs are configured.') }),
      alerts: configured('Alerts', 'The Logic App the alerts go to.'),
    }),
    'Dependencies',
    'The services Steward depends on.',
  ),
});

/**
 * Liveness and dependency status. Anonymous (a load balancer or a monitor calls it), so it says
 * nothing secret: which services are configured and whether storage answers.
 */
export const healthRoutes = [
  defineRoute({
    name: 'health',
    // A probe, not an action of a flow: in /api/openapi.json (internal), left out of the connector.
    doc: {
      operationId: 'GetHealth',
      summary: 'Get the health of the service',
      description: 'Reports liveness and whether storage and the other dependencies are configured and answer.',
      answer: healthAnswer,
      connector: false,
    },
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
