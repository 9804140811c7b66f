import { app } from '@azure/functions';
import { startTelemetry } from '../lib/telemetry/azure-monitor.js';
import { functionCatalog } from './catalog.js';

/**
 * The app's entry point (`main` in package.json): starts the export to Application Insights (when
 * its connection string is set) before anything else runs, then registers every function of the catalog.
 */
startTelemetry();
app.setup({ enableHttpStream: false });

for (const fn of functionCatalog) {
  switch (fn.kind) {
    case 'http':
      app.http(fn.name, { route: fn.route, methods: fn.methods, authLevel: fn.authLevel, handler: fn.handler });
      break;
    case 'timer':
      app.timer(fn.name, { schedule: fn.schedule, runOnStartup: fn.runOnStartup, handler: fn.handler });
      break;
    case 'queue':
      app.storageQueue(fn.name, { queueName: fn.queueName, connection: fn.connection, handler: fn.handler });
      break;
  }
}
