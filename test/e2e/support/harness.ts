import { readFileSync, readdirSync } from 'node:fs';
import type { Settings } from '../../../lib/config/settings.js';
import { startLocalServer, type LocalServer } from '../../../lib/http/local-server.js';
import type { AppServices } from '../../../lib/services.js';
import type { Fixture } from '../../../simulator/core/fixture.js';
import { startTestServices, type TestServices } from '../../support/services.js';

/**
 * The user-operation suites call Steward as Power Automate does: over HTTP, through the same
 * route handlers the Functions host runs (served by `steward serve`'s local server), against the
 * simulated tenant and Azurite.
 */

export const FUNCTION_KEY = 'e2e-function-key';

export interface ApiAnswer<T = any> {
  status: number;
  headers: Headers;
  contentType: string | null;
  body: T;
}

export interface Harness extends TestServices {
  server: LocalServer;
  call<T = any>(method: string, path: string, init?: { body?: unknown; rawBody?: string; headers?: Record<string, string>; server?: LocalServer }): Promise<ApiAnswer<T>>;
  /** Another server over the same tenant and storage, with some settings changed (read-only, app roles). */
  serverWith(settings: Partial<Settings>, services?: Partial<AppServices>): Promise<LocalServer>;
}

export async function startHarness(fixture: Fixture): Promise<Harness> {
  const test = await startTestServices(fixture);
  const extra: LocalServer[] = [];
  const server = await startLocalServer({ app: test, functionKey: FUNCTION_KEY });
  const call: Harness['call'] = async (method, path, init = {}) => {
    const target = init.server ?? server;
    const headers: Record<string, string> = { 'x-functions-key': FUNCTION_KEY, ...init.headers };
    let payload: string | undefined = init.rawBody;
    if (payload === undefined && init.body !== undefined) {
      payload = JSON.stringify(init.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(new URL(path.replace(/^\//, ''), target.apiUrl), { method, headers, body: payload });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      contentType: response.headers.get('content-type'),
      body: text ? JSON.parse(text) : undefined,
    };
  };
  return {
    ...test,
    server,
    call,
    serverWith: async (settings, services = {}) => {
      const started = await startLocalServer({
        app: { services: { ...test.services, ...services, settings: { ...test.services.settings, ...settings } }, audit: test.audit },
        functionKey: FUNCTION_KEY,
      });
      extra.push(started);
      return started;
    },
    stop: async () => {
      await Promise.all([server, ...extra].map((s) => s.close()));
      await test.stop();
    },
  };
}
