import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { responsePayload, type RouteDefinition } from '../lib/http/api.js';
import { buildApiRequest } from '../lib/http/api-request.js';
import { getSteward } from './services.js';

/** The trigger of one HTTP function: parse, hand to the route's handler, answer. */
export function httpHandler(route: RouteDefinition) {
  return async (request: HttpRequest, _context: InvocationContext): Promise<HttpResponseInit> => {
    const app = await getSteward();
    const apiRequest = buildApiRequest(
      { method: request.method, url: request.url, params: { ...request.params }, headers: request.headers.entries(), bodyText: await request.text() },
      app.services.settings.requireAppRoles,
    );
    const response = await route.handle(apiRequest, app);
    return {
      status: response.status,
      headers: response.headers,
      body: responsePayload(response),
    };
  };
}
