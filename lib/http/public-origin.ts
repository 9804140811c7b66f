import type { Settings } from '../config/settings.js';
import type { ApiRequest } from './api.js';

/**
 * The origin Steward's absolute links (`Location`, the OpenAPI `host`) point at. The request's
 * `Host` header is the caller's to write, so it is never reflected (a `Host: evil.example` must not
 * send a Power Automate flow polling elsewhere). In order:
 *
 * 1. STEWARD_PUBLIC_BASE_URL, when set (a custom domain, API Management);
 * 2. `X-Forwarded-Host` (and `X-Forwarded-Proto`), only with STEWARD_TRUST_FORWARDED_HOST, for a
 *    front end that overwrites those headers (Front Door, Application Gateway);
 * 3. the Function App's own name, WEBSITE_HOSTNAME, which App Service sets on every instance;
 * 4. a loopback request (`steward serve`, a local host): its own origin;
 * 5. none: links are relative (`/api/audits/…`), which `Location` allows (RFC 9110 §10.2.2).
 */
export function publicOrigin(request: ApiRequest, settings: Pick<Settings, 'publicBaseUrl' | 'links'>): string {
  if (settings.publicBaseUrl) return settings.publicBaseUrl.replace(/\/+$/, '');
  if (settings.links.trustForwardedHost) {
    const forwarded = forwardedOrigin(request.headers['x-forwarded-host'], request.headers['x-forwarded-proto']);
    if (forwarded) return forwarded;
  }
  if (settings.links.siteHostName && HOST.test(settings.links.siteHostName)) return `https://${settings.links.siteHostName}`;
  try {
    const url = new URL(request.url);
    if (LOOPBACK.has(url.hostname)) return url.origin;
  } catch {
    // no usable URL: relative links
  }
  return '';
}

/** A host name with an optional port; anything else (paths, user info, spaces) is refused. */
const HOST = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::\d{1,5})?$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

function forwardedOrigin(host: string | undefined, proto: string | undefined): string | null {
  // A chain of proxies appends: the first value is the one the client used.
  const first = host?.split(',')[0]?.trim();
  if (!first || !HOST.test(first)) return null;
  const scheme = proto?.split(',')[0]?.trim().toLowerCase() === 'http' ? 'http' : 'https';
  return `${scheme}://${first}`;
}
