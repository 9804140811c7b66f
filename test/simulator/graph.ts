import type { SimContext } from './context.js';
import { json, type SimHandler } from './host.js';

/** Microsoft Graph v1.0 (placeholder until the Graph simulator lands). */
export function createGraphHandler(_ctx: SimContext): SimHandler {
  return () => json(501, { error: { code: 'NotImplemented', message: 'not simulated yet' } });
}
