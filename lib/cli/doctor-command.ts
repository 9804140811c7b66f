import { Command } from 'commander';
import { runDoctor, type DoctorReport } from '../doctor/doctor.js';
import { openRuntime } from './runtime.js';

/**
 * `steward doctor [--fixture FILE] [--storage CONNECTION_STRING] [--json]`: checks the deployment
 * the settings describe (or the simulated tenant of a fixture) and prints a checklist; exits 0 when
 * every check passes (warnings and skipped checks included), 1 otherwise.
 */
export function doctorCommand(): Command {
  return new Command('doctor')
    .description('check a configured deployment: tokens, Graph permissions, environments, Salesforce orgs, storage')
    .option('--fixture <file>', 'check the simulated tenant of this fixture (starts the simulator and embedded storage)')
    .option('--storage <connection-string>', 'Azure Table Storage to check instead of the configured one')
    .option('--json', 'print the checklist as JSON: { ok, checks: [{ id, status, title, detail, fix? }] }')
    .action((options: { fixture?: string; storage?: string; json?: boolean }) => runDoctorCommand(options));
}

export async function runDoctorCommand(options: { fixture?: string; storage?: string; json?: boolean }): Promise<void> {
  const runtime = await openRuntime(options);
  try {
    const { services } = runtime;
    if (!services.credential) throw new Error('no Entra credential was composed');
    const report = await runDoctor({ services, credential: services.credential });
    process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, runtime.settings.tenantId));
    if (!report.ok) process.exitCode = 1;
  } finally {
    await runtime.close();
  }
}

const MARK = { pass: '✓', fail: '✗', warn: '!', skip: '-' } as const;

export function formatReport(report: DoctorReport, tenantId: string): string {
  const lines = [`steward doctor — tenant ${tenantId}`];
  for (const check of report.checks) {
    lines.push(`  ${MARK[check.status]} ${check.title}: ${check.detail}`);
    if (check.fix && check.status !== 'pass') lines.push(`      → ${check.fix}`);
  }
  const count = (status: keyof typeof MARK) => report.checks.filter((c) => c.status === status).length;
  lines.push(`${count('pass')} passed, ${count('fail')} failed, ${count('warn')} warning(s), ${count('skip')} skipped`);
  return `${lines.join('\n')}\n`;
}
