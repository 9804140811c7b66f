import { evaluateEligibility, type GroupStanding, type Reason } from '../domain/eligibility.js';
import { buildLicenseCatalog } from '../domain/licenses.js';
import { AccessMode, type DirectoryUser, type Environment, type SystemUser } from '../domain/model.js';
import { accessModeName, isApplicationUser, isNonInteractiveUser } from '../domain/user-kinds.js';
import { isGuid } from '../gateways/http/odata.js';
import { allPages } from '../gateways/http/pages.js';
import { NotFoundError } from '../domain/errors.js';
import type { AppServices } from '../services.js';

/** SPEC §3: why can (or can't) this user get into this environment? */
export interface Diagnosis {
  user: Pick<DirectoryUser, 'id' | 'userPrincipalName' | 'displayName' | 'accountEnabled' | 'userType'> | null;
  environment: Pick<Environment, 'id' | 'displayName' | 'type' | 'hasDataverse' | 'securityGroupId'>;
  verdict: 'eligible' | 'not-eligible';
  addedBy: 'background-sync' | 'on-demand' | 'none';
  expectedAccessMode: 'administrative' | 'non-interactive' | 'read-write';
  currentRow: {
    id: string;
    isdisabled: boolean;
    accessMode: number;
    accessModeName: string;
    roles: { id: string; name: string | null; via: 'direct' | 'team'; team?: string }[];
  } | null;
  reasons: Reason[];
  notes: Reason[];
}


/**
 * A handful of upstream requests, never a tenant scan: the environment (BAP), one Graph `$batch`
 * (user, memberships, admin roles, SKUs, the security group), the user's row and, when there is a
 * row, its teams and the role names (Dataverse).
 */
export async function diagnose(services: AppServices, userRef: string, environmentId: string): Promise<Diagnosis> {
  const environment = await services.environments.getEnvironment(environmentId);
  if (!environment) throw new NotFoundError('environment', environmentId);
  const facts = await services.directory.getUserAccessFacts(userRef, environment.securityGroupId);
  const target = { id: environment.id, instanceUrl: environment.instanceUrl };
  const objectId = facts.user?.id ?? (isGuid(userRef) ? userRef.toLowerCase() : null);
  let row: SystemUser | null = null;
  if (environment.hasDataverse && objectId) row = await services.dataverse.findSystemUserByEntraId(target, objectId);
  // D4.1: an id that Entra no longer knows, but that still has a row, is a deleted user.
  if (!facts.user && !row) throw new NotFoundError('user', userRef);
  // T2: unless the row is an application user's (a service principal, never a user in Graph): it is
  // not a deleted user, and removing its row would break every integration that uses it.
  if (!facts.user && row && isApplicationUser(row)) {
    throw new NotFoundError(
      'user',
      userRef,
      `'${userRef}' is the Entra object of an application user (T2), not of a user: application users need no license and are not diagnosed like people; disabling one breaks every integration that uses it.`,
    );
  }

  const group: GroupStanding | null = environment.securityGroupId
    ? {
        groupId: environment.securityGroupId,
        groupName: facts.securityGroupName,
        directMember: facts.directGroupIds.includes(environment.securityGroupId),
        owner: facts.user ? facts.securityGroupOwnerIds.includes(facts.user.id) : false,
        nestedVia: facts.securityGroupNestedGroups
          .filter((g) => facts.nestedGroups.some((n) => n.id === g.id) || facts.directGroupIds.includes(g.id))
          .map((g) => ({ id: g.id, displayName: g.displayName })),
      }
    : null;

  const catalog = buildLicenseCatalog(facts.skus, services.settings);
  const eligibility = evaluateEligibility({ user: facts.user, environment, catalog, adminRoles: facts.adminRoles, group, row });

  let currentRow: Diagnosis['currentRow'] = null;
  const notes: Reason[] = [];
  if (row) {
    const teams = await allPages(services.dataverse.listTeamsOfUser(target, row.id));
    const roleIds = new Set([...row.roleIds, ...teams.flatMap((t) => t.roleIds)]);
    const roleNames = roleIds.size > 0 ? new Map((await allPages(services.dataverse.listRoles(target))).map((r) => [r.id, r.name])) : new Map<string, string>();
    currentRow = {
      id: row.id,
      isdisabled: row.isDisabled,
      accessMode: row.accessMode,
      accessModeName: accessModeName(row.accessMode),
      roles: [
        ...row.roleIds.map((id) => ({ id, name: roleNames.get(id) ?? null, via: 'direct' as const })),
        ...teams.flatMap((t) => t.roleIds.map((id) => ({ id, name: roleNames.get(id) ?? null, via: 'team' as const, team: t.name }))),
      ],
    };
    if (!row.isDisabled && row.accessMode === AccessMode.ReadWrite && roleIds.size === 0) {
      notes.push({
        factId: 'U3',
        message: 'The user has no security role, directly or through a team: they can sign in but cannot use the apps.',
        remediation: 'Assign a security role, or add the user to a team that has one (U3).',
      });
    }
    if (row.isDisabled && eligibility.eligible) {
      notes.push({
        factId: 'D1',
        message: 'The systemuser row is disabled although the user meets every requirement.',
        remediation: 'Force a sync (POST …/users/{user}/sync) or let the user sign in: the first sign-in re-enables an entitled user (D1).',
      });
    }
    if (isNonInteractiveUser(row) && facts.user && facts.user.assignedSkuIds.length > 0) {
      notes.push({
        factId: 'T3',
        message: 'The row is non-interactive but the account still holds a license.',
        remediation: 'Non-interactive users need no license: remove it to reuse it (T3).',
      });
    }
  } else if (eligibility.eligible && environment.hasDataverse) {
    notes.push({
      factId: eligibility.addedBy === 'on-demand' ? 'D2' : 'D1',
      message:
        eligibility.addedBy === 'on-demand'
          ? 'The user has no row yet and the background sync will not add one here: it is added on demand or at first access.'
          : 'The user has no row yet; the background sync adds it within minutes (U2).',
      remediation: 'Force a sync (POST …/users/{user}/sync) or ask the user to sign in (D1).',
    });
  }

  return {
    user: facts.user
      ? { id: facts.user.id, userPrincipalName: facts.user.userPrincipalName, displayName: facts.user.displayName, accountEnabled: facts.user.accountEnabled, userType: facts.user.userType }
      : null,
    environment: { id: environment.id, displayName: environment.displayName, type: environment.type, hasDataverse: environment.hasDataverse, securityGroupId: environment.securityGroupId },
    verdict: eligibility.eligible ? 'eligible' : 'not-eligible',
    addedBy: eligibility.addedBy,
    expectedAccessMode: eligibility.expectedAccessMode,
    currentRow,
    reasons: eligibility.reasons,
    notes,
  };
}
