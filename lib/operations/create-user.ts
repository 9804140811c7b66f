import type { DirectoryUser, Environment, SubscribedSku } from '../domain/model.js';
import { isServiceError } from '../gateways/http/service-error.js';
import { allPages } from '../gateways/http/pages.js';
import type { AppServices } from '../services.js';
import { RuleRefusal, UpstreamRefusal } from '../domain/errors.js';
import { requireFreeUnit, resolveSkus } from './licenses.js';
import { requireDataverse, requireEnvironment } from './lookups.js';
import { generateTemporaryPassword } from './password.js';
import { isReplicationLag, waitOutReplication } from './replication.js';
import { directoryUserView, environmentView, type DirectoryUserView } from './views.js';

/**
 * Joiner: an Entra account, optionally with licenses and with membership of the security groups
 * of the environments the person will work in (E1). The Dataverse rows follow by the background
 * sync, which takes minutes (U2).
 */

export interface CreateUserInput {
  userPrincipalName: string;
  displayName: string;
  givenName?: string;
  surname?: string;
  mailNickname?: string;
  jobTitle?: string;
  department?: string;
  /** Required by Graph before any license can be assigned. */
  usageLocation?: string;
  /** SKU part numbers or ids. */
  licenses: string[];
  /** Environment ids: the user joins each one's security group. */
  environments: string[];
  returnTemporaryPassword: boolean;
}

export interface IncompleteStep {
  step: 'license' | 'security-group';
  /** The SKU or environment id concerned. */
  target: string;
  detail: string;
}

type AssignedLicense = { skuId: string; skuPartNumber: string };
type JoinedEnvironment = ReturnType<typeof environmentView> & { addedToSecurityGroup: boolean };

export type CreateUserResult =
  | {
      created: true;
      user: DirectoryUserView;
      licenses: AssignedLicense[];
      environments: JoinedEnvironment[];
      /** Steps that failed after the account existed: finish them with the enable route. */
      incomplete: IncompleteStep[];
      notes: string[];
      /** U1: only when asked for, only in this answer. */
      temporaryPassword?: string;
    }
  | { created: false; user: DirectoryUserView; notes: string[] };

/** Attributes compared when the UPN already exists (the ones the caller gave). */
const COMPARED = ['displayName', 'givenName', 'surname', 'jobTitle', 'usageLocation'] as const;

function differences(existing: DirectoryUser, input: CreateUserInput): string[] {
  return COMPARED.filter((field) => {
    const wanted = input[field];
    if (wanted === undefined) return false;
    const actual = existing[field] ?? '';
    return field === 'usageLocation' ? actual.toUpperCase() !== wanted.toUpperCase() : actual.trim() !== wanted.trim();
  });
}

/** Graph's mailNickname refuses `@ ( ) \ [ ] " ; : < > ,` and spaces: derived from the UPN's name. */
export function defaultMailNickname(userPrincipalName: string): string {
  const local = (userPrincipalName.split('@')[0] ?? '').replace(/[^A-Za-z0-9._-]/g, '').slice(0, 64);
  return local.length > 0 ? local : 'user';
}

export async function createUser(services: AppServices, input: CreateUserInput): Promise<CreateUserResult> {
  const { environments, skus, wanted } = await checkBeforeChanging(services, input);
  const existing = await services.directory.findUserByUpn(input.userPrincipalName);
  if (existing) return answerForExisting(existing, input, wanted, skus);
  wanted.forEach(requireFreeUnit);

  // U1: generated here, sent to Graph once, returned at most once; never logged or stored.
  const password = generateTemporaryPassword();
  const user = await createInEntra(services, input, password);

  // From here on the account exists: a failing step is reported, not thrown, so the caller still
  // gets the account (and the password it asked for) and can finish with the enable route.
  const licensing = await assignLicenses(services, user, wanted);
  const membership = await joinSecurityGroups(services, user, environments);
  const notes = [...membership.notes];
  if (environments.length > 0) notes.push('The Dataverse rows appear with the background sync, which takes minutes (U2); force it with POST …/enable or …/sync.');
  if (!input.returnTemporaryPassword) notes.push('The temporary password was not returned (returnTemporaryPassword is false): reset it through a secure channel (U1).');

  const { licenses } = licensing;
  const fresh = licenses.length > 0 ? { ...user, assignedSkuIds: [...new Set([...user.assignedSkuIds, ...licenses.map((l) => l.skuId)])] } : user;
  return {
    created: true,
    user: directoryUserView(fresh, skus),
    licenses,
    environments: membership.joined,
    incomplete: [...licensing.incomplete, ...membership.incomplete],
    notes,
    ...(input.returnTemporaryPassword ? { temporaryPassword: password } : {}),
  };
}

/** Everything that can refuse is checked before anything changes: the environments (D3) and the SKUs. */
async function checkBeforeChanging(services: AppServices, input: CreateUserInput) {
  const environments: Environment[] = [];
  for (const id of new Set(input.environments)) {
    const environment = await requireEnvironment(services, id);
    requireDataverse(environment); // D3: no users at all without a Dataverse database
    environments.push(environment);
  }
  let skus: SubscribedSku[] = [];
  let wanted: SubscribedSku[] = [];
  if (input.licenses.length > 0) {
    skus = await allPages(services.directory.listSubscribedSkus());
    wanted = resolveSkus(skus, input.licenses);
  }
  return { environments, skus, wanted };
}

/** The Entra account, with a temporary password to change at the first sign-in (U1). */
async function createInEntra(services: AppServices, input: CreateUserInput, password: string): Promise<DirectoryUser> {
  try {
    return await services.directory.createUser({
      userPrincipalName: input.userPrincipalName,
      displayName: input.displayName,
      mailNickname: input.mailNickname ?? defaultMailNickname(input.userPrincipalName),
      givenName: input.givenName,
      surname: input.surname,
      jobTitle: input.jobTitle,
      department: input.department,
      // Set in the same call, so it is there before any license (Graph refuses licenses without it).
      usageLocation: input.usageLocation,
      password,
      forceChangePasswordNextSignIn: true,
    });
  } catch (error) {
    if (isServiceError(error) && error.status === 400) {
      throw new UpstreamRefusal('graph', error.operation, `Microsoft Graph refused the new user: ${error.message}`, error.code);
    }
    throw error;
  }
}

/** The licenses asked for, in one call (U2: with a license the user is also created in the environments). */
async function assignLicenses(services: AppServices, user: DirectoryUser, wanted: SubscribedSku[]): Promise<{ licenses: AssignedLicense[]; incomplete: IncompleteStep[] }> {
  if (wanted.length === 0) return { licenses: [], incomplete: [] };
  try {
    await waitOutReplication(() => services.directory.assignLicenses(user.id, wanted.map((s) => s.skuId), []), services.settings.replicationWaitSeconds);
    return { licenses: wanted.map((s) => ({ skuId: s.skuId, skuPartNumber: s.skuPartNumber })), incomplete: [] };
  } catch (error) {
    return { licenses: [], incomplete: wanted.map((sku) => ({ step: 'license', target: sku.skuPartNumber, detail: describe(error, services) })) };
  }
}

/** E1, E4: direct membership of each environment's security group, each group joined once. */
async function joinSecurityGroups(
  services: AppServices,
  user: DirectoryUser,
  environments: Environment[],
): Promise<{ joined: JoinedEnvironment[]; incomplete: IncompleteStep[]; notes: string[] }> {
  const joined: JoinedEnvironment[] = [];
  const incomplete: IncompleteStep[] = [];
  const notes: string[] = [];
  const groupsDone = new Map<string, boolean>();
  for (const environment of environments) {
    if (!environment.securityGroupId) {
      notes.push(`Environment '${environment.displayName}' has no security group: every licensed user of the tenant may be added (D4.3).`);
      joined.push({ ...environmentView(environment), addedToSecurityGroup: false });
      continue;
    }
    let added = groupsDone.get(environment.securityGroupId);
    if (added === undefined) {
      try {
        const groupId = environment.securityGroupId;
        await waitOutReplication(() => services.directory.addGroupMember(groupId, user.id), services.settings.replicationWaitSeconds);
        added = true;
      } catch (error) {
        added = false;
        incomplete.push({ step: 'security-group', target: environment.id, detail: describe(error, services) });
      }
      groupsDone.set(environment.securityGroupId, added);
    }
    joined.push({ ...environmentView(environment), addedToSecurityGroup: added });
  }
  return { joined, incomplete, notes };
}

function answerForExisting(existing: DirectoryUser, input: CreateUserInput, wanted: SubscribedSku[], skus: SubscribedSku[]): CreateUserResult {
  const differing = differences(existing, input);
  if (differing.length > 0) {
    if (existing.onPremisesSyncEnabled) {
      throw new RuleRefusal(
        'user-mastered-on-premises',
        `${existing.userPrincipalName} already exists and is synced from on-premises Active Directory: the cloud cannot change ${differing.join(', ')}. ` +
          'Change them in on-premises AD (they arrive with the next Entra Connect sync), or call again with the current values.',
        undefined,
        { userId: existing.id, differingFields: differing },
      );
    }
    throw new RuleRefusal(
      'user-exists',
      `${existing.userPrincipalName} already exists with a different ${differing.join(', ')}: nothing was changed.`,
      undefined,
      { userId: existing.id, differingFields: differing },
    );
  }
  // Same attributes: a success that changes nothing (a retried joiner flow lands here).
  const notes = ['The user already exists with these attributes: nothing was changed.'];
  const held = new Set(existing.assignedSkuIds.map((id) => id.toLowerCase()));
  const missing = wanted.filter((s) => !held.has(s.skuId.toLowerCase())).map((s) => s.skuPartNumber);
  if (missing.length > 0) notes.push(`Not assigned: ${missing.join(', ')}. Use POST /api/environments/{env}/users/{user}/enable with a license.`);
  if (input.environments.length > 0) notes.push('Security groups were not changed: use POST /api/environments/{env}/users/{user}/enable for each environment.');
  return { created: false, user: directoryUserView(existing, skus), notes };
}

function describe(error: unknown, services: AppServices): string {
  if (isReplicationLag(error)) {
    const waited = services.settings.replicationWaitSeconds;
    return `Entra ID had not replicated the new user after ${waited} s (STEWARD_REPLICATION_WAIT_S): ${(error as Error).message}. Finish with POST …/enable.`;
  }
  if (isServiceError(error)) return error.message;
  return 'unexpected failure';
}
