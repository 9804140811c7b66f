import { loadSettings, type Settings } from '../../lib/config/settings.js';
import { trustCertificateAuthorities } from '../../lib/gateways/http/tls.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../simulator/index.js';
import type { Fixture } from '../simulator/fixture.js';

export interface TestTenant {
  sim: Simulator;
  settings: Settings;
  /** CA list to hand to Azure SDK clients (`tlsOptions.ca`). */
  ca: string[];
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
  const { ca } = trustCertificateAuthorities(settings.extraCaCertificates);
  return { sim, settings, ca, stop: () => sim.stop() };
}
