import { app } from '@azure/functions';
import { functionCatalog } from './catalog.js';

/** The app's entry point (`main` in package.json): registers every function of the catalog. */
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
