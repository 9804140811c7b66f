import { loadFixture, startSimulator, type Simulator } from '../../simulator/index.js';
import { startAzurite } from '../../simulator/storage/azurite.js';
import { loadSettings, type Settings } from '../config/settings.js';
import { connectionStringProblem } from '../config/storage.js';
import { createSteward } from '../composition.js';
import type { AuditRunner } from '../audit/runner.js';
import type { AppServices } from '../services.js';

/**
 * Where the CLI's commands run: against the simulated tenant of a fixture (the simulator and, unless
 * a storage connection is given, an embedded Azurite are started here, the CLI being a composition
 * point) or against the real tenant the settings describe.
 */
export interface Runtime {
  services: AppServices;
  /** The audit, run in this process. */
  audit: AuditRunner;
  settings: Settings;
  /** Present with --fixture: the simulator's request log, for the curious. */
  requestCount?: () => number;
  /** Present with --fixture: the simulated tenant, which the demo changes between runs. */
  simulator?: Simulator;
  close(): Promise<void>;
}

/**
 * The settings that point Steward at a tenant: with --fixture the simulator provides these and
 * nothing the caller set for them applies (a real secret or URL must never reach the simulator).
 */
const TENANT_CONNECTION = new Set([
  'STEWARD_TENANT_ID',
  'STEWARD_CLIENT_ID',
  'STEWARD_CLIENT_SECRET',
  'STEWARD_AUTHORITY_HOST',
  'STEWARD_GRAPH_URL',
  'STEWARD_POWERPLATFORM_URL',
  'STEWARD_POWERPLATFORM_SCOPE',
  'STEWARD_EXTRA_CA_CERTS',
  'STEWARD_SALESFORCE_ORGS',
]);

/**
 * The simulator's settings fill in what points at it; every other setting the caller gave
 * (read-only, app roles, alert URL, environments, thresholds) wins over the fixture's defaults.
 */
function withSimulatorConnection(
  callerEnv: Record<string, string | undefined>,
  simulatorEnv: Record<string, string>,
): Record<string, string | undefined> {
  const callerSettings = Object.entries(callerEnv).filter(([name, value]) => value !== undefined && !TENANT_CONNECTION.has(name));
  const connection = Object.entries(simulatorEnv).filter(([name]) => TENANT_CONNECTION.has(name));
  return { ...simulatorEnv, ...Object.fromEntries(callerSettings), ...Object.fromEntries(connection) };
}

export async function openRuntime(options: { fixture?: string | object; storage?: string; env?: Record<string, string> }): Promise<Runtime> {
  const closers: (() => Promise<void>)[] = [];
  try {
    // --storage is STEWARD_STORAGE_CONNECTION for this command: a bad one is named as the option.
    const storageProblem = options.storage ? connectionStringProblem(options.storage) : null;
    if (storageProblem) throw new Error(`--storage (STEWARD_STORAGE_CONNECTION): ${storageProblem}`);
    let env: Record<string, string | undefined> = { ...process.env };
    let requestCount: (() => number) | undefined;
    let simulator: Runtime['simulator'];
    if (options.fixture) {
      // Composition point: the CLI is the only product entry that starts the simulator. The
      // Functions entry point never imports lib/cli, so a deployment never loads simulator/.
      const sim = await startSimulator(typeof options.fixture === 'string' ? loadFixture(options.fixture) : options.fixture);
      simulator = sim;
      closers.push(() => sim.stop());
      env = withSimulatorConnection(process.env, sim.settingsEnv());
      requestCount = () => sim.requests.length;
    }
    let storage = options.storage ?? env.STEWARD_STORAGE_CONNECTION ?? env.AzureWebJobsStorage;
    if (!storage || options.fixture && !options.storage) {
      const azurite = await startAzurite();
      closers.push(() => azurite.stop());
      storage = azurite.connectionString;
    }
    const settings = loadSettings({ ...env, ...options.env, STEWARD_STORAGE_CONNECTION: storage });
    const { services, audit } = await createSteward(settings, { dispatch: 'in-process' });
    return {
      services,
      audit,
      settings,
      requestCount,
      simulator,
      close: async () => {
        for (const close of closers.reverse()) await close();
      },
    };
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw error;
  }
}
