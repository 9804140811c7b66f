import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import { CHECK_CATALOGUE } from '../domain/check-catalogue.js';
import type { DataverseTeam, SecurityGroup } from '../domain/model.js';
import type { DirectorySnapshot, EnvironmentUserSummary } from './snapshot.js';

/**
 * SPEC §9, cost proportional to change: an environment whose own data did not change is checked
 * again only when something else its checks read did. These keys name all of that, so that equal
 * keys mean equal findings:
 * - the directory's: the delta links of the directory state in force (they move whenever a user or
 *   a security group changed), the SKUs and the administrators (read in full every run), the audit's
 *   settings and the check catalogue;
 * - an environment's: the directory's, with the environment's teams and the groups of its group
 *   teams (read in full every run).
 * A deployment that changes how a check decides, without changing the catalogue, is picked up by
 * the next full run (STEWARD_FULL_AUDIT_EVERY_DAYS) or `steward audit --full`.
 */

/** Sets and maps as sorted lists; any other difference of order only costs a check run again. */
const plain = (_key: string, value: unknown) =>
  value instanceof Set ? [...value].map(String).sort() : value instanceof Map ? [...value].sort(([a], [b]) => String(a).localeCompare(String(b))) : value;

const digest = (value: unknown) => createHash('sha256').update(stringify(value, plain) ?? '').digest('base64url');

export function directoryInputsKey(
  links: readonly (string | null)[] | null,
  snapshot: Pick<DirectorySnapshot, 'skus' | 'adminRoles'>,
  settings: unknown,
): string | undefined {
  return links ? digest({ links, skus: snapshot.skus, adminRoles: snapshot.adminRoles, settings, catalogue: CHECK_CATALOGUE }) : undefined;
}

export function environmentInputsKey(directoryKey: string | undefined, teams: readonly DataverseTeam[], groupTeamGroups: ReadonlyMap<string, SecurityGroup>): string | undefined {
  return directoryKey ? digest({ directoryKey, teams, groupTeamGroups }) : undefined;
}

/**
 * What the tenant's checks read, as a key: the directory and every environment's summary. An
 * incremental run on the key of the last evaluation (full or incremental) finds what it found for
 * the checks delta tracks (the others keep their findings on incremental runs anyway: SPEC §9).
 */
export function tenantInputsKey(directoryKey: string, summaries: readonly EnvironmentUserSummary[]): string {
  const bySummary = [...summaries].sort((a, b) => a.environmentId.localeCompare(b.environmentId));
  return digest({ directoryKey, summaries: bySummary });
}
