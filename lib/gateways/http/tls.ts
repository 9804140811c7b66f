import https from 'node:https';
import tls from 'node:tls';
import { Agent, setGlobalDispatcher } from 'undici';

/**
 * Trusts extra certificate authorities (PEM) besides the public roots, for every client Steward
 * uses: `fetch` (Microsoft Graph client, Dataverse and Power Platform gateways), Node's https
 * module (jsforce) and the Azure SDK pipelines (which take the returned `ca` as `tlsOptions`).
 *
 * Set by configuration (`STEWARD_EXTRA_CA_CERTS`): needed behind a TLS-inspecting proxy, and by
 * the simulated tenant, which serves HTTPS on loopback with a certificate made at start-up.
 *
 * The trust store is parsed once into a `SecureContext` shared by every connection: given as a
 * `ca` list, Node parses the ~150 PEM roots again for each new TLS connection (30–100 ms of CPU
 * each, measured by the benchmark), and an audit opens a few per Dataverse environment.
 */
export function trustCertificateAuthorities(pems: readonly string[]): { ca: string[] } {
  const ca = [...tls.rootCertificates, ...pems];
  if (pems.length === 0) return { ca };
  const secureContext = tls.createSecureContext({ ca });
  setGlobalDispatcher(new Agent({ connect: { ca, secureContext }, keepAliveTimeout: 10_000 }));
  https.globalAgent.options.ca = ca;
  https.globalAgent.options.secureContext = secureContext;
  return { ca };
}
