import { diagnose } from '../diagnose/diagnose.js';
import { salesforceReadiness } from '../diagnose/readiness.js';
import { resolveEnvironment, resolveEnvironmentUser, resolveSalesforceOrg } from '../inventory/inventory.js';
import { EXIT } from './exit-codes.js';
import { openRuntime } from './runtime.js';

export async function runDiagnoseCommand(options: { fixture?: string; storage?: string; environment: string; user: string; json?: boolean }) {
  const runtime = await openRuntime(options);
  try {
    const environment = await resolveEnvironment(runtime.services, options.environment);
    const user = await resolveEnvironmentUser(runtime.services, environment.id, options.user);
    const result = await diagnose(runtime.services, user, environment.id);
    if (result.verdict !== 'eligible') process.exitCode = EXIT.attention;
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const lines = [
      `${result.user?.userPrincipalName ?? options.user} in ${result.environment.displayName} (${result.environment.type}): ${result.verdict.toUpperCase()}`,
      `  added by: ${result.addedBy}; expected access mode: ${result.expectedAccessMode}`,
      `  row: ${result.currentRow ? `${result.currentRow.isdisabled ? 'disabled' : 'enabled'}, ${result.currentRow.accessModeName}, roles: ${result.currentRow.roles.map((r) => r.name ?? r.id).join(', ') || 'none'}` : 'none'}`,
      ...result.reasons.map((r) => `  ✗ ${r.factId}: ${r.message}\n      → ${r.remediation}`),
      ...result.notes.map((n) => `  • ${n.factId}: ${n.message}\n      → ${n.remediation}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await runtime.close();
  }
}

export async function runReadinessCommand(options: { fixture?: string; storage?: string; org: string; json?: boolean }) {
  const runtime = await openRuntime(options);
  try {
    const org = resolveSalesforceOrg(runtime.services, options.org);
    const result = await salesforceReadiness(runtime.services, org.orgId);
    if (result.checks.some((c) => c.status === 'problem')) process.exitCode = EXIT.attention;
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const mark = { ok: '✓', warning: '!', problem: '✗', unknown: '?' } as const;
    const lines = [`${result.org.name} (${result.org.id}) — Copilot for Sales S2S readiness`];
    for (const c of result.checks) lines.push(`  ${mark[c.status]} ${c.id.padEnd(20)} ${c.message}${c.status === 'ok' ? '' : `\n      → ${c.resolution}`}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await runtime.close();
  }
}
