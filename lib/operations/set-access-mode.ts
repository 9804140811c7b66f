import { AccessMode, type AccessModeValue, type AdminRole } from '../domain/model.js';
import { isApplicationUser, isNonInteractiveUser } from '../domain/user-kinds.js';
import type { DataverseTarget } from '../gateways/dataverse/port.js';
import type { AppServices } from '../services.js';
import { RuleRefusal } from '../domain/errors.js';
import { removeEnvironmentLicenses } from './licenses.js';
import { requireDataverse, requireEnvironment, requireSystemUser, requireUser } from './lookups.js';
import { environmentView, systemUserView, type SystemUserView } from './views.js';

/**
 * Access mode of a user's row (A1): read-write, administrative (A2) or non-interactive (T3).
 * The seed's procedures for the two license-free modes are "create with a license, set the mode,
 * then remove the license": `removeLicenses` is that last step, done after the mode is set.
 */

/** T3: at most 7 enabled non-interactive users per environment (application users not counted, T2). */
export const NON_INTERACTIVE_CAP = 7;

export type SettableAccessMode = 'read-write' | 'administrative' | 'non-interactive';

const MODE_VALUE: Record<SettableAccessMode, AccessModeValue> = {
  'read-write': AccessMode.ReadWrite,
  administrative: AccessMode.Administrative,
  'non-interactive': AccessMode.NonInteractive,
};

const ADMIN_ROLE_NAMES: Record<AdminRole, string> = {
  globalAdministrator: 'Global Administrator',
  powerPlatformAdministrator: 'Power Platform Administrator',
  dynamics365Administrator: 'Dynamics 365 Administrator',
};

export interface SetAccessModeInput {
  environmentId: string;
  user: string;
  accessMode: SettableAccessMode;
  removeLicenses: boolean;
}

export interface SetAccessModeResult {
  environment: ReturnType<typeof environmentView>;
  user: { id: string; userPrincipalName: string };
  previousAccessMode: SystemUserView['accessMode'];
  changed: boolean;
  licensesRemoved: string[];
  stillEnabledIn: { id: string; displayName: string }[];
  systemUser: SystemUserView;
  warnings: string[];
}

/** Enabled non-interactive users (T3), application users excluded (T2). */
export async function countEnabledNonInteractive(services: AppServices, target: DataverseTarget): Promise<number> {
  let count = 0;
  for await (const page of services.dataverse.listSystemUsers(target)) {
    for (const row of page) if (isNonInteractiveUser(row) && !row.isDisabled) count++;
  }
  return count;
}

export async function setAccessMode(services: AppServices, input: SetAccessModeInput): Promise<SetAccessModeResult> {
  const environment = await requireEnvironment(services, input.environmentId);
  const target = requireDataverse(environment); // D3
  const user = await requireUser(services, input.user);
  const row = await requireSystemUser(services, target, user);

  if (isApplicationUser(row)) {
    throw new RuleRefusal('application-user', 'This is an application user: it is always non-interactive and its mode is not changed (T2).', 'T2');
  }
  if (row.accessMode === AccessMode.SupportUser || row.accessMode === AccessMode.DelegatedAdmin) {
    const factId = row.accessMode === AccessMode.SupportUser ? 'T4' : 'T5';
    throw new RuleRefusal('system-managed-user', `The support and delegated admin users are managed by Microsoft; their mode is not changed (${factId}).`, factId);
  }
  if (input.removeLicenses && input.accessMode === 'read-write') {
    throw new RuleRefusal(
      'license-needed',
      'A read-write user needs a license to stay enabled (D4.2): "removeLicenses" applies only to administrative (A2) and non-interactive (T3) users.',
      'D4.2',
    );
  }
  if (input.removeLicenses && input.accessMode === 'administrative') {
    // A2: only a Global / Power Platform / Dynamics 365 administrator stays entitled without a
    // license ("make the user a service admin" comes before "remove the license").
    const admins = await services.directory.getAdminRoleMembers();
    const isAdmin = (Object.keys(admins) as AdminRole[]).some((role) => admins[role].has(user.id));
    if (!isAdmin) {
      throw new RuleRefusal(
        'not-an-administrator',
        `${user.userPrincipalName} holds none of the roles ${Object.values(ADMIN_ROLE_NAMES).join(', ')}: without a license the row would be disabled. ` +
          'Make the user a service admin first, wait for the sync, then remove the license (A2).',
        'A2',
        { userId: user.id },
      );
    }
  }

  const wanted = MODE_VALUE[input.accessMode];
  const previous = row.accessMode;
  if (input.accessMode === 'non-interactive' && !isNonInteractiveUser(row)) {
    const enabled = await countEnabledNonInteractive(services, target);
    if (enabled >= NON_INTERACTIVE_CAP) {
      throw new RuleRefusal(
        'non-interactive-cap',
        `Environment '${environment.displayName}' already has ${enabled} enabled non-interactive users, the most allowed (T3; application users do not count, T2). ` +
          'Disable one, or use an application user.',
        'T3',
        { enabledNonInteractive: enabled, cap: NON_INTERACTIVE_CAP },
      );
    }
  }

  const changed = previous !== wanted;
  if (changed) await services.dataverse.updateSystemUser(target, row.id, { accessMode: wanted });

  const warnings: string[] = [];
  // T3, A2: the mode is set first, the license goes last.
  const removal = input.removeLicenses ? await removeEnvironmentLicenses(services, user, environment) : null;
  if (removal) {
    warnings.push(...removal.warnings);
  } else if (input.accessMode !== 'read-write') {
    warnings.push(`A ${input.accessMode} user needs no license (${input.accessMode === 'administrative' ? 'A2' : 'T3'}): use "removeLicenses": true to free it.`);
  }

  const after = (await services.dataverse.getSystemUser(target, row.id)) ?? { ...row, accessMode: wanted };
  return {
    environment: environmentView(environment),
    user: { id: user.id, userPrincipalName: user.userPrincipalName },
    previousAccessMode: systemUserView(row).accessMode,
    changed,
    licensesRemoved: removal?.removed ?? [],
    stillEnabledIn: removal?.stillEnabledIn ?? [],
    systemUser: systemUserView(after),
    warnings,
  };
}
