import { loadSettings } from '../../lib/config/settings.js';
import { createServices } from '../../lib/composition.js';
import type { AppServices } from '../../lib/services.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../simulator/index.js';
import type { Fixture } from '../simulator/fixture.js';
import { startAzurite, type EmbeddedStorage } from './azurite.js';

export interface TestServices {
  sim: Simulator;
  services: AppServices;
  storage: EmbeddedStorage;
  stop(): Promise<void>;
}

/**
 * The whole of Steward against the simulated tenant and an embedded Azurite, built by the same
 * composition root as production; audits dispatched over HTTP run in this process.
 */
export async function startTestServices(
  fixture: Fixture | unknown,
  options: SimulatorOptions & { env?: Record<string, string>; storage?: EmbeddedStorage; now?: () => Date } = {},
): Promise<TestServices> {
  const sim = await startSimulator(fixture, options);
  const ownStorage = !options.storage;
  const storage = options.storage ?? (await startAzurite());
  try {
    const settings = loadSettings({ ...sim.settingsEnv(options.env), STEWARD_STORAGE_CONNECTION: storage.connectionString });
    const services = await createServices(settings, { dispatch: 'in-process', now: options.now });
    return {
      sim,
      services,
      storage,
      stop: async () => {
        await sim.stop();
        if (ownStorage) await storage.stop();
      },
    };
  } catch (error) {
    await sim.stop();
    if (ownStorage) await storage.stop();
    throw error;
  }
}
