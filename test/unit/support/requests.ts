import type { ApiRequest, AppRole, Principal } from '../../../lib/http/api.js';
import { parseJsonBody } from '../../../lib/http/api-request.js';

const ALL_ROLES: AppRole[] = ['Steward.Read', 'Steward.Manage', 'Steward.Audit'];

/** An ApiRequest as a host would build it; `body` is sent as JSON unless `rawBody` is given. */
export function apiRequest(init: {
  method?: string;
  path?: string;
  params?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
  rawBody?: string;
  principal?: Partial<Principal>;
}): ApiRequest {
  const url = `http://127.0.0.1:7071/api/${(init.path ?? 'x').replace(/^\//, '')}`;
  const text = init.rawBody ?? (init.body === undefined ? '' : JSON.stringify(init.body));
  return {
    method: init.method ?? 'POST',
    url,
    params: init.params ?? {},
    query: new URL(url).searchParams,
    headers: Object.fromEntries(Object.entries(init.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    body: parseJsonBody(text),
    principal: { id: 'function-key', roles: ALL_ROLES, authenticated: false, ...init.principal },
  };
}
