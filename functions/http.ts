import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { responsePayload, type RouteDefinition } from '../lib/http/api.js';
import { buildApiRequest } from '../lib/http/api-request.js';
import { withLogContext } from '../lib/telemetry/log.js';
import { invocationSink } from './invocation.js';
import { getSteward } from './services.js';

/** The trigger of one HTTP function: parse, hand to the route's handler, answer. */
export function httpHandler(route: RouteDefinition) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const app = await getSteward();
    const apiRequest = buildApiRequest(
      {
        method: request.method,
        url: request.url,
        params: { ...request.params },
        headers: request.headers.entries(),
        bodyText: await request.text(),
        // The trace continues from the host's (W3C traceparent), and logs name the invocation.
        invocation: { id: context.invocationId, traceParent: context.traceContext?.traceParent ?? undefined },
      },
      app.services.settings.requireAppRoles,
    );
    const response = await withLogContext({ invocationId: context.invocationId, sink: invocationSink(context) }, () => route.handle(apiRequest, app));
    return {
      status: response.status,
      headers: response.headers,
      body: responsePayload(response),
    };
  };
}

