import { createServer } from 'node:http';
import { demoTenant, ids, SKU } from '../../fixtures/demo-tenant.js';
import type { AddressInfo } from 'node:net';
import { renderAuditTable } from './audit-command.js';
import { openRuntime } from './runtime.js';

/**
 * `npm run demo`: Steward's main job on the built-in demo tenant (Tailspin Toys). Starts the
 * simulated tenant and embedded storage, runs the nightly audit, changes the tenant as admins
 * would, runs it again, and shows the life cycle and the alert document the Logic App receives.
 */
async function main() {
  // Composition point: the demo tenant and a stand-in for the Logic App's HTTP trigger.
  const received: unknown[] = [];
  const logicApp = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => logicApp.listen(0, '127.0.0.1', resolve));
  const alertUrl = `http://127.0.0.1:${(logicApp.address() as AddressInfo).port}/workflows/steward-alerts/triggers/manual/invoke`;

  const runtime = await openRuntime({
    fixture: demoTenant(),
    env: { STEWARD_ALERT_URL: alertUrl, STEWARD_PUBLIC_BASE_URL: 'https://steward-demo.azurewebsites.net' },
  });
  const say = (text: string) => process.stdout.write(`${text}\n`);
  try {
    say('━━ Night 1: the first audit of Tailspin Toys ━━');
    const first = await runtime.audit.run('cli', { concurrency: 4 });
    say(renderAuditTable(first));
    say(`\nAlert document sent to the Logic App: ${received.length} (${(received[0] as { findings?: unknown[] })?.findings?.length ?? 0} findings)\n`);

    say('━━ During the day, the admins act on the findings ━━');
    const state = runtime.simulator!.state;
    const user = (name: string) => state.graph.users.find((u) => u.id === ids.user(name))!;
    const prod = state.environments.find((e) => e.id === ids.env('Prod'))!;
    user('dan').assignedLicenses = [{ skuId: SKU.sales, disabledPlans: [] }];
    say('  • Dan gets a Dynamics 365 Sales license (D4.2)');
    prod.systemusers.find((r) => r.systemuserid === ids.row('Prod', 'ida'))!.roles = [ids.role('Prod', 'Salesperson')];
    say('  • Ida gets the Salesperson role (U3)');
    prod.systemusers.find((r) => r.systemuserid === ids.row('Prod', 'svc-g'))!.isdisabled = false;
    say('  • someone re-enables svc-g in Prod: 7 non-interactive users, the cap (T3)');
    user('zoe').assignedLicenses = [{ skuId: SKU.e3, disabledPlans: [] }];
    say('  • a license is assigned to Zoe, whose account is disabled (E2)');

    say('\n━━ Night 2: the audit again ━━');
    const second = await runtime.audit.run('cli', { concurrency: 4 });
    say(renderAuditTable(second));
    const document = received[1];
    say('\n━━ The alert document of night 2 (what the Logic App posts to Teams) ━━');
    say(document ? JSON.stringify(document, null, 2) : '(none: nothing opened, reopened or rose in severity)');
    say(`\n${runtime.requestCount?.() ?? 0} requests to the simulated Microsoft Graph, Power Platform, Dataverse and Salesforce.`);
  } finally {
    await runtime.close();
    logicApp.close();
  }
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`demo failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => process.stdout.write('', () => process.exit()));
