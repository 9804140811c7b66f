import { formatMoney, type Money } from '../domain/money.js';
import { licenceLabel } from '../domain/sku-names.js';

/**
 * The details of a finding an admin acts on, as lines for the readable audit: the accounts named,
 * the licences by product name, what each costs a month when priced, the differing fields, the
 * counts. Ids and values the title already says are left to `--json`.
 */
export function detailLines(details: Record<string, unknown>, targetName: (id: string) => string): string[] {
  const lines: string[] = [];
  const list = (key: string) => (Array.isArray(details[key]) ? (details[key] as unknown[]) : []);
  const text = (key: string) => (typeof details[key] === 'string' ? (details[key] as string) : null);
  const number = (key: string) => (typeof details[key] === 'number' ? (details[key] as number) : null);

  const licences = list('licenses').filter((l): l is string => typeof l === 'string');
  if (licences.length > 0) lines.push(`licences: ${licences.map(licenceLabel).join(', ')}`);
  const sku = text('skuPartNumber');
  if (sku) lines.push(`licence: ${licenceLabel(sku)}`);
  const cost = list('monthlyCost') as Money[];
  if (cost.length > 0) lines.push(`costs ${formatMoney(cost)} a month`);

  const users = list('users').filter((u): u is string => typeof u === 'string');
  if (users.length > 0) lines.push(`accounts (${users.length}): ${users.join(', ')}`);
  const disabledIn = list('disabledIn').filter((e): e is string => typeof e === 'string');
  if (disabledIn.length > 0) lines.push(`disabled in: ${disabledIn.map(targetName).join(', ')}`);

  for (const f of list('failed') as { factId?: string; message?: string }[]) if (f.message) lines.push(`${f.factId}: ${f.message}`);
  for (const d of list('differences') as { field?: string; systemuserField?: string; entra?: unknown; dataverse?: unknown }[]) {
    lines.push(`${d.field ?? d.systemuserField}: Entra ID "${d.entra ?? ''}", Dataverse "${d.dataverse ?? ''}"`);
  }
  if (text('lastSignInDateTime') || details.neverSignedIn === true) {
    const days = number('inactiveDays');
    lines.push(details.neverSignedIn === true ? 'never signed in' : `last sign-in ${text('lastSignInDateTime')}${days !== null ? ` (${days} days ago)` : ''}`);
  }
  if (text('error')) lines.push(`assignment error: ${text('error')}${text('assignedByGroup') ? ', assigned through a group' : ''}`);
  const enabled = number('enabledUnits');
  if (enabled !== null) lines.push(`units: ${number('consumedUnits')} of ${enabled} in use, ${number('unitsLeft')} left`);
  const total = number('total');
  if (total !== null && number('used') !== null) lines.push(`licences: ${number('used')} of ${total} used, ${number('remaining')} left`);
  return lines;
}
