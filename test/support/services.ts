import type { AuditRunner } from '../../lib/audit/runner.js';
import { createSteward } from '../../lib/composition.js';
import type { AppServices } from '../../lib/services.js';
import type { Simulator, SimulatorOptions } from '../../simulator/index.js';
import type { Fixture } from '../../simulator/core/fixture.js';
import { startAzurite, type EmbeddedStorage } from '../../simulator/storage/azurite.js';
import { startTestTenant, type TestTenant } from './tenant.js';

export interface TestServices {
  sim: Simulator;
  services: AppServices;
  /** The audit composed over `services`, dispatching in this process. */
  audit: AuditRunner;
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
  const ownStorage = !options.storage;
  const storage = options.storage ?? (await startAzurite());
  let tenant: TestTenant | undefined;
  try {
    tenant = await startTestTenant(fixture, { ...options, storageConnection: storage.connectionString });
    const { services, audit } = await createSteward(tenant.settings, { dispatch: 'in-process', now: options.now });
    const { sim } = tenant;
    return {
      sim,
      services,
      audit,
      storage,
      stop: async () => {
        await sim.stop();
        if (ownStorage) await storage.stop();
      },
    };
  } catch (error) {
    await tenant?.stop();
    if (ownStorage) await storage.stop();
    throw error;
  }
}
