import { writeFile } from 'node:fs/promises';
import { anonymizeFixture } from '../snapshot/anonymize.js';
import { toFixture } from '../snapshot/fixture.js';
import { readTenant } from '../snapshot/read-tenant.js';
import { openRuntime } from './runtime.js';

export interface SnapshotCommandOptions {
  fixture?: string;
  storage?: string;
  out: string;
  anonymize?: boolean;
}

/**
 * `steward snapshot --out FILE [--anonymize]`: the tenant the settings describe (or, with
 * `--fixture`, the simulated one) read through the gateways, only read, and written as a fixture
 * (SPEC §5) that `steward audit --fixture FILE` audits offline.
 */
export async function runSnapshotCommand(options: SnapshotCommandOptions): Promise<void> {
  const runtime = await openRuntime(options);
  try {
    const { services, settings } = runtime;
    const snapshot = await readTenant(services, settings.tenantId, { concurrency: settings.http.maxConcurrency });
    const fixture = toFixture(snapshot, settings);
    const written = options.anonymize ? anonymizeFixture(fixture) : fixture;
    await writeFile(options.out, `${JSON.stringify(written, null, 2)}\n`, 'utf8');
    const rows = snapshot.environments.reduce((n, e) => n + e.systemUsers.length, 0);
    process.stderr.write(
      `steward: wrote ${options.out}: ${snapshot.users.length} users, ${snapshot.groups.length} groups, ${snapshot.environments.length} environments (${rows} systemusers), ${snapshot.salesforceOrgs.length} Salesforce orgs${options.anonymize ? ', anonymized' : ''}\n`,
    );
  } finally {
    await runtime.close();
  }
}
