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

/**
 * The Microsoft Graph application permissions a fully consented Steward holds (docs/setup.md):
 * what a fixture without `app.graphPermissions` grants.
 */
export const DEFAULT_GRAPH_PERMISSIONS = [
  'User.ReadWrite.All',
  'GroupMember.ReadWrite.All',
  'LicenseAssignment.Read.All',
  'RoleManagement.Read.Directory',
  'AuditLog.Read.All',
];

const GRAPH_SCOPES = new Set(['https://graph.microsoft.com/.default', '00000003-0000-0000-c000-000000000000/.default']);

/**
 * An access token for the client credentials flow, shaped as Entra issues it: a JWT (v1.0 access
 * token claims `aud`, `iss`, `appid`, `tid`, `iat`, `nbf`, `exp`) whose `roles` claim lists the
 * application permissions granted to the app on that resource (learn.microsoft.com/entra/identity-platform/access-token-claims-reference,
 * "roles"; learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow: the
 * permissions are "included in the roles claim" of the token). Graph tokens carry the fixture's
 * `app.graphPermissions`; other resources' tokens carry no roles (Dataverse authorizes an app through
 * its application user, the admin API through its management app registration). The signature is
 * random: the simulated services look the token up rather than verify it.
 */
export function issueToken(ctx: SimContext, clientId: string, audience: string, lifetimeSeconds = 3599): string {
  const now = Math.floor(Date.now() / 1000);
  const roles = GRAPH_SCOPES.has(audience.toLowerCase()) ? (ctx.state.app?.graphPermissions ?? DEFAULT_GRAPH_PERMISSIONS) : undefined;
  const claims = {
    aud: audience.replace(/\/\.default$/, '').replace(/\/+$/, ''),
    iss: `https://sts.windows.net/${ctx.entra.tenantId}/`,
    iat: now,
    nbf: now,
    exp: now + lifetimeSeconds,
    appid: clientId,
    tid: ctx.entra.tenantId,
    ...(roles ? { roles } : {}),
    ver: '1.0',
  };
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const token = `${part({ typ: 'JWT', alg: 'RS256' })}.${part(claims)}.${randomBytes(32).toString('base64url')}`;
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
