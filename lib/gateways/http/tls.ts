import https from 'node:https';
import tls from 'node:tls';
import { Agent, setGlobalDispatcher } from 'undici';

/** How the clients that take an agent (`@azure/identity`'s pipeline) reach a trusted host. */
export interface TrustedTls {
  /** Undefined: Node's defaults (the public roots). */
  httpsAgent?: https.Agent;
}

/**
 * Trusts extra certificate authorities (PEM) besides the public roots, for every client Steward
 * uses: `fetch` (Microsoft Graph client, Dataverse and Power Platform gateways), Node's https
 * module (jsforce) and the Azure SDK pipelines (which take the returned agent).
 *
 * Set by configuration (`STEWARD_EXTRA_CA_CERTS`): needed behind a TLS-inspecting proxy, and by
 * the simulated tenant, which serves HTTPS on loopback with a certificate made at start-up.
 *
 * The trust store is parsed once into a `SecureContext` shared by every connection: given as a
 * `ca` list, Node parses the ~150 PEM roots again for each new TLS connection (30–100 ms of CPU
 * each, measured by the benchmark), and an audit opens a few per Dataverse environment.
 */
export function trustCertificateAuthorities(pems: readonly string[]): TrustedTls {
  // No extra authority: every client keeps Node's defaults. (A `ca` list of the public roots
  // would have each new connection parse them again.)
  if (pems.length === 0) return {};
  const ca = [...tls.rootCertificates, ...pems];
  const secureContext = tls.createSecureContext({ ca });
  setGlobalDispatcher(new Agent({ connect: { ca, secureContext }, keepAliveTimeout: 10_000 }));
  https.globalAgent.options.ca = ca;
  https.globalAgent.options.secureContext = secureContext;
  return { httpsAgent: new https.Agent({ keepAlive: true, ca, secureContext }) };
}
