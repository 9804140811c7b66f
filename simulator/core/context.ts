import { randomBytes } from 'node:crypto';
import type { DeltaLog } from './delta.js';
import type { FaultPlan } from './faults.js';
import type { Fixture } from './fixture.js';
import type { RequestRecord } from './host.js';

export interface IssuedToken {
  clientId: string;
  /** The scope asked for (Entra) or the org id (Salesforce). */
  audience: string;
  expiresAt: number;
}

/** What every simulated service shares: the tenant's state, the faults, tokens and the request log. */
export interface SimContext {
  /** The live state; mutations change it (a read after a write sees the write). */
  state: Fixture;
  faults: FaultPlan;
  log: RequestRecord[];
  tokens: Map<string, IssuedToken>;
  /** The state tokens of Graph delta queries and Dataverse change tracking (core/delta.ts). */
  deltas: DeltaLog;
  entra: { tenantId: string; clientId: string; clientSecret: string };
  /** Base URLs, known once every host listens. */
  urls: {
    login: string;
    graph: string;
    powerPlatform: string;
    dataverse: Record<string, string>;
    salesforce: Record<string, string>;
  };
  /**
   * When directory objects were created and licences assigned through the API (ids lower-case,
   * `Date.now()`): the real services' eventual consistency (R4, R5) counts from there.
   */
  events: { createdAt: Map<string, number>; licensedAt: Map<string, number> };
  /** Page sizes the services use when the client does not ask for less. */
  paging: { graphDefault: number; graphMax: number; dataverseDefault: number; salesforce: number; powerPlatform?: number };
}

export function issueToken(ctx: SimContext, clientId: string, audience: string, lifetimeSeconds = 3599): string {
  const token = randomBytes(24).toString('base64url');
  ctx.tokens.set(token, { clientId, audience, expiresAt: Date.now() + lifetimeSeconds * 1000 });
  return token;
}

/** The valid bearer token of a request, or null. */
export function bearerToken(ctx: SimContext, authorization: string | undefined): IssuedToken | null {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match) return null;
  const token = ctx.tokens.get(match[1]!);
  if (!token || token.expiresAt < Date.now()) return null;
  return token;
}

/** The client id of a valid bearer token, or null. */
export function checkBearer(ctx: SimContext, authorization: string | undefined): string | null {
  return bearerToken(ctx, authorization)?.clientId ?? null;
}
