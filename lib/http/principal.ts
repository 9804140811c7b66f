import type { AppRole, Principal } from './api.js';

const KNOWN_ROLES: readonly AppRole[] = ['Steward.Read', 'Steward.Manage', 'Steward.Audit'];

/**
 * The caller. With Entra authentication switched on (App Service authentication), the platform
 * strips any `x-ms-client-principal` a client sends and sets its own, so the header is trusted
 * only when `platformAuthentication` is true (setting STEWARD_REQUIRE_APP_ROLES). Otherwise the
 * function key was the only check: the caller gets every role and is logged as `function-key`.
 */
export function principalFrom(headers: Record<string, string>, platformAuthentication: boolean): Principal {
  if (!platformAuthentication) {
    return { id: 'function-key', roles: [...KNOWN_ROLES], authenticated: false };
  }
  const encoded = headers['x-ms-client-principal'];
  if (!encoded) return { id: 'anonymous', roles: [], authenticated: false };
  try {
    const decoded = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as {
      claims?: { typ: string; val: string }[];
      userId?: string;
    };
    const claims = decoded.claims ?? [];
    const roles = claims
      .filter((c) => c.typ === 'roles' || c.typ === 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role')
      .map((c) => c.val)
      .filter((r): r is AppRole => (KNOWN_ROLES as readonly string[]).includes(r));
    const id =
      claims.find((c) => c.typ === 'http://schemas.microsoft.com/identity/claims/objectidentifier' || c.typ === 'oid')?.val ??
      headers['x-ms-client-principal-id'] ??
      decoded.userId ??
      'unknown';
    return { id, roles, authenticated: true };
  } catch {
    return { id: 'anonymous', roles: [], authenticated: false };
  }
}
