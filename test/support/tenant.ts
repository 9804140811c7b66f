import { loadSettings, type Settings } from '../../lib/config/settings.js';
import { trustCertificateAuthorities, type TrustedTls } from '../../lib/gateways/http/tls.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../simulator/index.js';
import type { Fixture } from '../../simulator/core/fixture.js';

export interface TestTenant {
  sim: Simulator;
  settings: Settings;
  /** What `createCredential` needs to trust the simulator's certificate authority. */
  tls: TrustedTls;
  stop(): Promise<void>;
}

/**
 * Starts the simulator for a fixture and returns the settings that point Steward at it, exactly
 * as the CLI's `--fixture` does. Storage defaults to a placeholder: tests that need Table Storage
 * pass the Azurite connection string.
 */
export async function startTestTenant(
  fixture: Fixture | unknown,
  options: SimulatorOptions & { storageConnection?: string; env?: Record<string, string> } = {},
): Promise<TestTenant> {
  const sim = await startSimulator(fixture, options);
  const settings = loadSettings({
    ...sim.settingsEnv(options.env),
    STEWARD_STORAGE_CONNECTION: options.storageConnection ?? 'UseDevelopmentStorage=false',
  });
  return { sim, settings, tls: trustCertificateAuthorities(settings.extraCaCertificates), stop: () => sim.stop() };
}
