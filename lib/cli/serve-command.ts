import { randomBytes } from 'node:crypto';
import { startLocalServer } from '../http/local-server.js';
import { openRuntime } from './runtime.js';

/** `steward serve`: the HTTP API on loopback, with the handlers the Functions host runs, until stopped. */
export async function runServeCommand(options: { fixture?: string; storage?: string; port: number; key?: string }) {
  const runtime = await openRuntime(options);
  const functionKey = options.key ?? randomBytes(24).toString('base64url');
  const server = await startLocalServer({ app: runtime, port: options.port, functionKey });
  process.stdout.write(`Steward API: ${server.apiUrl}\nFunction key: ${functionKey}  (send it as the x-functions-key header or ?code=)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  await runtime.close();
}
