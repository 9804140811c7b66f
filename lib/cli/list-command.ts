import {
  listChecks,
  listEnvironments,
  listEnvironmentUsers,
  listSalesforceOrgs,
  resolveEnvironment,
} from '../inventory/inventory.js';
import { accessModeName } from '../domain/user-kinds.js';
import { openRuntime } from './runtime.js';
import { renderTable } from './table.js';

export type ListWhat = 'environments' | 'orgs' | 'users' | 'checks';
export const LIST_WHATS: readonly ListWhat[] = ['environments', 'orgs', 'users', 'checks'];

export interface ListCommandOptions {
  fixture?: string;
  storage?: string;
  environment?: string;
  search?: string;
  json?: boolean;
}

const write = (json: boolean | undefined, value: unknown, table: () => string) =>
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${table()}\n`);

/** `steward list`: what an admin can name in the other commands (lib/inventory, the use cases the HTTP pickers use too). */
export async function runListCommand(what: ListWhat, options: ListCommandOptions): Promise<void> {
  if (what === 'checks') {
    const checks = listChecks();
    write(options.json, checks, () => renderTable(['check', 'target', 'severity', 'facts', 'title'], checks.map((c) => [c.id, c.target, c.severities.join(' / '), c.factIds.join(', '), c.title])));
    return;
  }
  if (what === 'users' && !options.environment) throw new Error("'steward list users' needs --environment <name-or-id> (see 'steward list environments').");
  const runtime = await openRuntime(options);
  try {
    const { services } = runtime;
    if (what === 'environments') {
      const environments = await listEnvironments(services);
      write(options.json, environments, () =>
        renderTable(
          ['name', 'id', 'type', 'Dataverse', 'audited'],
          environments.map((e) => [e.displayName, e.id, e.type, e.hasDataverse ? 'yes' : 'no', e.audited ? 'yes' : 'no']),
        ),
      );
    } else if (what === 'orgs') {
      const orgs = listSalesforceOrgs(services);
      write(options.json, orgs, () => renderTable(['name', 'org id', 'login URL'], orgs.map((o) => [o.name, o.orgId, o.loginUrl])));
    } else {
      const environment = await resolveEnvironment(services, options.environment!);
      const users = await listEnvironmentUsers(services, environment.id, options.search);
      write(options.json, users, () =>
        renderTable(
          ['name', 'user name', 'Entra object id', 'access mode', 'state'],
          users.map((u) => [u.fullName, u.domainName ?? (u.applicationId ? `application ${u.applicationId}` : ''), u.entraObjectId, accessModeName(u.accessMode), u.isDisabled ? 'disabled' : 'enabled']),
        ),
      );
    }
  } finally {
    await runtime.close();
  }
}
