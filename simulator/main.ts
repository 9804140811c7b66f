import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { changeNight, generateTenant, type TenantShape } from './core/generate.js';
import { loadFixture, startSimulator, type Simulator } from './index.js';

/**
 * The simulated tenant as a process of its own (the benchmark runs it so that the memory it
 * measures is Steward's alone, and so that the simulator's work does not share Steward's thread).
 *
 *   tsx simulator/main.ts --generate '{"users":1000,"environments":2,"systemusersPerEnvironment":500,"salesforceOrgs":1}' --latency 20
 *   tsx simulator/main.ts --fixture fixtures/contoso.json
 *
 * Once every host listens it prints ONE line on stdout, `{"ready":true,"pid":…,"env":{…}}`, where
 * `env` is `sim.settingsEnv()` (the app settings that point Steward at it, the CA certificate
 * included), then answers commands read from stdin, one per line, each with one JSON line:
 *
 *   count  → {"requests":N,"calls":N,"batches":N,"batchItems":N,"byHost":{"graph":N,…},"byKind":{…}}
 *            `requests` counts HTTP requests (a `$batch` is one), `calls` counts a `$batch` as
 *            its items (what Graph throttles and executes one by one);
 *   dump   → [{"host","method","url","status","batchItems"?},…]: the request log, for profiling;
 *   reset  → {"reset":true}: empties the request log;
 *   change <share> → {"users":N,"systemusers":N}: a night of changes to that share of users and
 *            systemusers (`changeNight`, generated tenants; the bench's `--incremental`);
 *   stop   → {"stopped":true}, then the process exits.
 *
 * When stdin closes (the parent went away) it stops too. Diagnostics go to stderr only.
 */

interface Options {
  fixture?: string;
  generate?: string;
  latency: string;
}

/** The host names of the request log reduced to a kind (`dataverse:<id>` → `dataverse`). */
const kindOf = (host: string) => host.split(':')[0]!;

function counts(sim: Simulator) {
  const byHost: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  let batches = 0;
  let batchItems = 0;
  for (const record of sim.requests) {
    byHost[record.host] = (byHost[record.host] ?? 0) + 1;
    const kind = kindOf(record.host);
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    if (record.batchItems !== undefined) {
      batches++;
      batchItems += record.batchItems;
    }
  }
  // Status classes, so that a caller sees retries and refusals.
  const byStatus: Record<string, number> = {};
  for (const record of sim.requests) {
    const status = `${Math.floor(record.status / 100)}xx`;
    byStatus[status] = (byStatus[status] ?? 0) + 1;
  }
  return {
    requests: sim.requests.length,
    calls: sim.requests.length - batches + batchItems,
    batches,
    batchItems,
    byKind,
    byStatus,
    byHost,
  };
}

async function main() {
  const program = new Command()
    .name('simulator')
    .description('Runs the simulated tenant in its own process')
    .option('--fixture <file>', 'a fixture file (SPEC §5)')
    .option('--generate <json>', 'a tenant shape for generateTenant, as JSON')
    .option('--latency <ms>', 'latency added to every answer', '0')
    .parse(process.argv);
  const options = program.opts<Options>();
  if (!options.fixture === !options.generate) {
    process.stderr.write('simulator: give exactly one of --fixture FILE or --generate JSON\n');
    process.exit(2);
  }
  const latencyMs = Number(options.latency);
  if (!Number.isFinite(latencyMs) || latencyMs < 0) {
    process.stderr.write(`simulator: --latency expects a number of milliseconds, not ${options.latency}\n`);
    process.exit(2);
  }

  const started = Date.now();
  const fixture = options.fixture ? loadFixture(options.fixture) : generateTenant(JSON.parse(options.generate!) as TenantShape);
  const sim = await startSimulator(fixture, { latencyMs });
  process.stderr.write(`simulator: ready in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${process.pid})\n`);

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await sim.stop().catch(() => undefined);
    process.exit(code);
  };
  const answer = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

  answer({ ready: true, pid: process.pid, env: sim.settingsEnv() });

  const lines = createInterface({ input: process.stdin, terminal: false });
  lines.on('line', (line) => {
    const command = line.trim();
    if (command === '') return;
    if (command === 'count') answer(counts(sim));
    else if (command === 'dump') answer(sim.requests.map((r) => ({ host: r.host, method: r.method, url: r.url, status: r.status, batchItems: r.batchItems })));
    else if (command === 'reset') {
      sim.requests.length = 0; // the hosts keep pushing into this same array
      answer({ reset: true });
    } else if (command.startsWith('change ')) {
      const share = Number(command.slice('change '.length));
      answer(Number.isFinite(share) && share > 0 && share <= 1 ? changeNight(sim.state, share) : { error: 'change expects a share in (0, 1]' });
    } else if (command === 'stop') {
      answer({ stopped: true });
      void stop(0);
    } else answer({ error: `unknown command ${JSON.stringify(command)} (count, dump, reset, change, stop)` });
  });
  lines.on('close', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));
}

main().catch((error: unknown) => {
  process.stderr.write(`simulator: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
