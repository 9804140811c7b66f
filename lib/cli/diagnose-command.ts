import { diagnose, type Diagnosis } from '../diagnose/diagnose.js';
import { salesforceReadiness } from '../diagnose/readiness.js';
import { resolveEnvironment, resolveEnvironmentUser, resolveSalesforceOrg } from '../inventory/inventory.js';
import { EXIT } from './exit-codes.js';
import { openRuntime } from './runtime.js';

const CHECK_LABEL = {
  'dataverse-database': 'Dataverse database',
  account: 'Entra ID account',
  license: 'Licence',
  'admin-role': 'Administrator role',
  'security-group': 'Security group',
  'environment-type': 'Environment type',
} as const;
const STATUS_MARK = { passed: '✓', failed: '✗', 'not-applicable': '–' } as const;

/** The diagnosis as a checklist, in the admin center's words (issue 14). */
export function renderDiagnosis(result: Diagnosis, typed: string): string {
  const who = result.user ? `${result.user.displayName ?? result.user.userPrincipalName} (${result.user.userPrincipalName})` : `${typed} (not in Entra ID)`;
  const verdict = result.verdict === 'eligible' ? 'meets every requirement' : 'does not meet every requirement';
  const lines = [`${who} in ${result.environment.displayName} (${result.environment.type}): ${verdict}`, ''];
  const width = Math.max(...result.checklist.requirements.map((r) => `${CHECK_LABEL[r.check]} (${r.factId})`.length));
  for (const r of result.checklist.requirements) {
    lines.push(`  ${STATUS_MARK[r.status]} ${`${CHECK_LABEL[r.check]} (${r.factId})`.padEnd(width)}  ${r.evidence}`);
  }
  lines.push('');
  const roles = result.currentRow?.roles ?? [];
  const roleWords = roles.map((r) => `${r.name ?? r.id}${r.via === 'direct' ? '' : r.via === 'team' ? ` through the team "${r.team}"` : ` through the group team "${r.team}" (group "${r.group}")`}`);
  lines.push(`  Systemuser record: ${result.checklist.systemUser}${roleWords.length > 0 ? ` Roles: ${roleWords.join(', ')}.` : ''}`);
  lines.push(`  Can sign in now:   ${result.checklist.signIn.why}`);
  lines.push(`  What happens next: ${result.checklist.next.what}`);
  if (result.reasons.length > 0) {
    lines.push('', '  To let the user in:');
    for (const r of result.reasons) lines.push(`    ✗ ${r.factId}: ${r.message}`, `      → ${r.remediation}`);
  }
  if (result.notes.length > 0) {
    lines.push('', '  Notes:');
    for (const n of result.notes) lines.push(`    • ${n.factId}: ${n.message}`, `      → ${n.remediation}`);
  }
  return lines.join('\n');
}

export async function runDiagnoseCommand(options: { fixture?: string; storage?: string; environment: string; user: string; json?: boolean }) {
  const runtime = await openRuntime(options);
  try {
    const environment = await resolveEnvironment(runtime.services, options.environment);
    const user = await resolveEnvironmentUser(runtime.services, environment.id, options.user);
    const result = await diagnose(runtime.services, user, environment.id);
    if (result.verdict !== 'eligible') process.exitCode = EXIT.attention;
    process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : `${renderDiagnosis(result, options.user)}\n`);
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
