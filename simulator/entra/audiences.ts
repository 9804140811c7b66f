import { randomUUID } from 'node:crypto';
import { bearerToken, type SimContext } from '../core/context.js';
import type { SimRequest, SimResponse } from '../core/host.js';

/**
 * R3 (SPEC §8): a token is valid only for the resource it was issued for. The simulated token
 * endpoint records the scope asked for; a client-credentials token for `X/.default` carries the
 * audience `X` (learn.microsoft.com/entra/identity-platform/scopes-oidc, "The /.default scope").
 * Each host accepts only its own audience and refuses any other token the way its service does.
 */

/** The audience of a token asked for with `scope` (`https://service.powerapps.com//.default` → `https://service.powerapps.com`). */
export function audienceOf(scope: string): string {
  return scope.replace(/\/\.default$/, '').replace(/\/+$/, '').toLowerCase();
}

/** Microsoft Graph: its resource URI and its application id (both are valid audiences). */
export const GRAPH_AUDIENCES = ['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000'];

/**
 * The Power Platform admin API (BAP): "Power Apps Service", `https://service.powerapps.com/`, app id
 * 475226c6-020e-4fb2-8a90-7a972cbfc1d4 (learn.microsoft.com/power-platform/admin/programmability-authentication;
 * microsoft/terraform-provider-power-platform internal/constants/constants.go `PUBLIC_POWERAPPS_SCOPE`).
 * No source shows `https://api.bap.microsoft.com` working as an audience, so it is refused.
 */
export const POWERPLATFORM_AUDIENCES = ['https://service.powerapps.com', '475226c6-020e-4fb2-8a90-7a972cbfc1d4'];

type Refusal = (ctx: SimContext, request: SimRequest) => SimResponse;

/** `innerError.date` as Graph writes it: `YYYY-MM-DDThh:mm:ss`, no zone, no fraction. */
const graphDate = () => new Date().toISOString().slice(0, 19);

/**
 * Graph's 401 for a token of another audience: body observed verbatim in
 * microsoftgraph/microsoft-graph-docs-contrib#2362; the challenge is the documented one of an
 * unauthenticated call (learn.microsoft.com/entra/msal/dotnet/advanced/extract-authentication-parameters).
 * That the invalid-audience case carries exactly this header is unconfirmed.
 */
export const graphRefusal: Refusal = () => {
  const id = randomUUID();
  return {
    status: 401,
    headers: {
      'WWW-Authenticate': 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
      'request-id': id,
      'client-request-id': id,
    },
    body: {
      error: {
        code: 'InvalidAuthenticationToken',
        message: 'Access token validation failure. Invalid audience.',
        innerError: { date: graphDate(), 'request-id': id, 'client-request-id': id },
      },
    },
  };
};

/**
 * Dataverse's 401: the challenge Microsoft's own client parses (microsoft/PowerPlatform-DataverseServiceClient,
 * Auth/AuthorityResolver.cs: scheme `Bearer`, comma-separated `authorization_uri`, `resource_id`).
 * The empty body is a third-party report (dev.to, "Dataverse Web Api: how to setup CORS"), not a
 * Microsoft document: unconfirmed.
 */
export function dataverseRefusal(instanceUrl: () => string): Refusal {
  return (ctx) => ({
    status: 401,
    headers: {
      'WWW-Authenticate': `Bearer authorization_uri=https://login.microsoftonline.com/${ctx.entra.tenantId}/oauth2/authorize, resource_id=${instanceUrl()}/`,
    },
  });
}

/**
 * BAP's 401: no document gives its body. The shape is BAP's error envelope (`{"error":{"code","message"}}`,
 * seen in the provider's fixtures) with the challenge Entra-protected APIs send; both unconfirmed.
 */
export const powerPlatformRefusal: Refusal = () => ({
  status: 401,
  headers: { 'WWW-Authenticate': 'Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token"' },
  body: { error: { code: 'InvalidAuthenticationToken', message: 'The access token is invalid: audience validation failed.' } },
});

/**
 * A host's `authorize`: the client id of a valid token for one of `audiences`, null without a valid
 * token (the host's generic 401), or the service's refusal of a token for another resource.
 */
export function entraBearer(ctx: SimContext, audiences: () => string[], refuse: Refusal) {
  return (authorization: string | undefined, request: SimRequest): string | SimResponse | null => {
    const token = bearerToken(ctx, authorization);
    if (!token) return null;
    const accepted = audiences().map((a) => audienceOf(a));
    return accepted.includes(audienceOf(token.audience)) ? token.clientId : refuse(ctx, request);
  };
}
