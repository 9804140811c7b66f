import type { SimContext } from './context.js';
import type { FixtureEnvironment } from './fixture.js';
import { json, type SimHandler } from './host.js';

/** Dataverse Web API v9.2 of one environment (placeholder until the Dataverse simulator lands). */
export function createDataverseHandler(_ctx: SimContext, _environment: FixtureEnvironment): SimHandler {
  return () => json(501, { error: { code: '0x80040216', message: 'not simulated yet' } });
}
