import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Azurite's well-known development account (public, documented; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface EmbeddedStorage {
  connectionString: string;
  tableUrl: string;
  queueUrl: string;
  blobUrl: string;
  stop(): Promise<void>;
}

export interface AzuriteOptions {
  /**
   * Serve HTTPS with this certificate (PEM, with a SAN for 127.0.0.1) and accept bearer tokens
   * (`--oauth basic`: issuer `https://sts.windows.net/…`, audience `https://storage.azure.com`,
   * lifetime checked, signature not), as Azure Storage does with an identity. Shared keys still work.
   */
  oauth?: { cert: string; key: string };
  /**
   * Keep the data on disk in this folder (kept after stop) instead of in memory, so it outlives a
   * killed Azurite or a killed client mid-write, as a real storage account does.
   */
  location?: string;
}

/**
 * Starts Azurite as a child process: in memory, on free loopback ports, telemetry off. Never the
 * fixed ports of `UseDevelopmentStorage=true`, never a service someone started by hand.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<EmbeddedStorage> {
  const require = createRequire(import.meta.url);
  const entry = join(require.resolve('azurite/package.json'), '..', 'dist', 'src', 'azurite.js');
  const workdir = mkdtempSync(join(tmpdir(), 'steward-azurite-'));
  const oauthArguments: string[] = [];
  if (options.oauth) {
    writeFileSync(join(workdir, 'cert.pem'), options.oauth.cert);
    writeFileSync(join(workdir, 'key.pem'), options.oauth.key, { mode: 0o600 });
    oauthArguments.push('--oauth', 'basic', '--cert', join(workdir, 'cert.pem'), '--key', join(workdir, 'key.pem'));
  }
  // Azurite runs inside a small wrapper that exits once its parent is gone: if this process dies
  // without stopping it (a killed test run, Ctrl-C), no orphan keeps running.
  const wrapper =
    'const parent = process.ppid; setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 500).unref();' +
    'require(process.argv[1]);';
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      wrapper,
      entry,
      ...(options.location ? ['--location', options.location] : ['--inMemoryPersistence', '--extentMemoryLimit', '256']),
      '--blobHost', '127.0.0.1', '--blobPort', '0',
      '--queueHost', '127.0.0.1', '--queuePort', '0',
      '--tableHost', '127.0.0.1', '--tablePort', '0',
      '--skipApiVersionCheck',
      '--disableTelemetry',
      ...oauthArguments,
    ],
    // Azurite writes its debug log and extent files relative to its working directory.
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: workdir },
  );
  const ports: Record<string, string> = {};
  let output = '';
  await new Promise<void>((resolve, reject) => {
    let listening = false;
    const timer = setTimeout(() => reject(new Error(`Azurite did not start in 30 s:\n${output}`)), 30_000);
    const onEarlyExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited (${code}) before it listened:\n${output}`));
    };
    child.once('exit', onEarlyExit);
    const onOutput = (chunk: Buffer) => {
      if (listening) return; // after start-up Azurite logs every request: nothing more to read
      output += chunk.toString();
      for (const match of output.matchAll(/Azurite (Blob|Queue|Table) service is successfully listening at (https?:\/\/\S+)/g)) {
        ports[match[1]!.toLowerCase()] = match[2]!;
      }
      if (ports.blob && ports.queue && ports.table) {
        listening = true;
        clearTimeout(timer);
        child.off('exit', onEarlyExit);
        resolve();
      }
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
  });
  const blobUrl = `${ports.blob}/${AZURITE_ACCOUNT}`;
  const queueUrl = `${ports.queue}/${AZURITE_ACCOUNT}`;
  const tableUrl = `${ports.table}/${AZURITE_ACCOUNT}`;
  return {
    blobUrl,
    queueUrl,
    tableUrl,
    connectionString:
      `DefaultEndpointsProtocol=${options.oauth ? 'https' : 'http'};AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
      `BlobEndpoint=${blobUrl};QueueEndpoint=${queueUrl};TableEndpoint=${tableUrl};`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        // Its data lives in memory and dies with it: a graceful close buys nothing, and once a
        // Table client has talked to it Azurite's graceful shutdown never ends. Ask, then insist.
        child.kill('SIGTERM');
        const insist = setTimeout(() => child.kill('SIGKILL'), 1500);
        await exited;
        clearTimeout(insist);
      }
      rmSync(workdir, { recursive: true, force: true });
    },
  };
}
