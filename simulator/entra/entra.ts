import type { SimContext } from '../core/context.js';
import { issueToken } from '../core/context.js';
import { json, type SimHandler } from '../core/host.js';

/**
 * The Microsoft identity platform's endpoints that `@azure/identity` (MSAL) calls for the client
 * credentials flow: the OpenID metadata document and the v2.0 token endpoint.
 */
export function createEntraHandler(ctx: SimContext): SimHandler {
  const aadError = (status: number, error: string, description: string) =>
    json(status, { error, error_description: description, error_codes: [status === 401 ? 7000215 : 900144], timestamp: new Date().toISOString() });

  return (request) => {
    const base = ctx.urls.login;
    const segments = request.path.split('/').filter(Boolean);
    const tenant = segments[0];
    if (tenant !== ctx.entra.tenantId && tenant !== 'organizations' && tenant !== 'common') {
      return aadError(400, 'invalid_tenant', `AADSTS90002: Tenant '${tenant}' not found.`);
    }
    const rest = segments.slice(1).join('/');
    if (request.method === 'GET' && (rest === 'v2.0/.well-known/openid-configuration' || rest === '.well-known/openid-configuration')) {
      const root = `${base}/${ctx.entra.tenantId}`;
      return json(200, {
        token_endpoint: `${root}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        jwks_uri: `${base}/${ctx.entra.tenantId}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: `${base}/${ctx.entra.tenantId}/v2.0`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${base}/oidc/userinfo`,
        authorization_endpoint: `${root}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${root}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${root}/oauth2/v2.0/logout`,
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid'],
        kerberos_endpoint: `${root}/kerberos`,
        tenant_region_scope: 'EU',
        cloud_instance_name: 'microsoftonline.com',
        cloud_graph_host_name: 'graph.windows.net',
        msgraph_host: 'graph.microsoft.com',
        rbac_url: 'https://pas.windows.net',
      });
    }
    if (request.method === 'POST' && (rest === 'oauth2/v2.0/token' || rest === 'oauth2/token')) {
      const form = (request.body ?? {}) as Record<string, string>;
      if (form.grant_type !== 'client_credentials') {
        return aadError(400, 'unsupported_grant_type', 'AADSTS70003: The app requested an unsupported grant type.');
      }
      if (form.client_id !== ctx.entra.clientId) {
        return aadError(400, 'unauthorized_client', `AADSTS700016: Application with identifier '${form.client_id}' was not found.`);
      }
      if (form.client_secret !== ctx.entra.clientSecret) {
        return aadError(401, 'invalid_client', 'AADSTS7000215: Invalid client secret provided.');
      }
      const scope = form.scope ?? '';
      if (!scope.endsWith('/.default')) {
        return aadError(400, 'invalid_scope', 'AADSTS1002012: The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed.');
      }
      // A storage token is the same v1 JWT (issuer sts.windows.net, audience https://storage.azure.com):
      // Azurite with `--oauth basic` checks issuer, audience and lifetime, never the signature.
      const token = issueToken(ctx, form.client_id, scope);
      return json(200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
    }
    return aadError(404, 'not_found', `No endpoint ${request.method} ${request.path}`);
  };
}
