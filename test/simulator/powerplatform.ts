import type { SimContext } from './context.js';
import { json, type SimHandler } from './host.js';

/** Power Platform admin (BAP) API (placeholder until the BAP simulator lands). */
export function createPowerPlatformHandler(_ctx: SimContext): SimHandler {
  return () => json(501, { error: { code: 'NotImplemented', message: 'not simulated yet' } });
}
