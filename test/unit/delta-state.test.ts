import { describe, expect, it } from 'vitest';
import { DELTA_STATE_FORMAT, stateFromLines, stateLines, type DirectoryDeltaState, type EnvironmentDeltaState } from '../../lib/audit/delta-state.js';
import { compactDirectoryUser } from '../../lib/domain/string-pool.js';
import { directoryUser, systemUser as buildSystemUser } from '../support/builders.js';

/** What `putLines` stores and `getLines` gives back: each value through JSON, one at a time. */
async function* throughJson(values: Iterable<unknown>): AsyncGenerator<unknown> {
  for (const value of values) yield JSON.parse(JSON.stringify(value));
}

describe('delta state kept between runs (SPEC §9)', () => {
  const directory: DirectoryDeltaState = {
    format: DELTA_STATE_FORMAT,
    fullAt: '2026-12-01T02:00:00.000Z',
    usersLink: 'https://graph.example/v1.0/users/delta?$deltatoken=a',
    groupsLink: null,
    groupIds: ['g1'],
    users: [
      directoryUser({ id: 'u1', userPrincipalName: 'a@contoso.test', assignedSkuIds: ['s1', 's2'] }),
      directoryUser({ id: 'u2', userPrincipalName: 'b@contoso.test', signInActivity: { lastSignInDateTime: null, lastNonInteractiveSignInDateTime: '2026-11-01T00:00:00Z', lastSuccessfulSignInDateTime: null } }),
    ],
    groups: [{ id: 'g1', displayName: 'Sales', members: [{ id: 'u1', kind: 'user', displayName: 'A' }], ownerIds: [] }],
    signInActivityAvailable: true,
  };

  it('reads back the directory it wrote, field for field', async () => {
    expect(await stateFromLines(throughJson(stateLines(directory)))).toEqual(directory);
  });

  it('reads users back compact, as a Graph read holds them: the same values, repeated lists and strings held once', async () => {
    const sku = 'ee4d7c14-d298-43f2-95bb-360173d6a7e3';
    const signedIn = { lastSignInDateTime: '2026-11-02T08:00:00Z', lastNonInteractiveSignInDateTime: '2026-11-03T08:00:00Z', lastSuccessfulSignInDateTime: '2026-11-03T08:00:00Z' };
    const users = [
      directoryUser({ id: 'u1', userPrincipalName: 'a@contoso.test', mail: 'a@contoso.test', assignedSkuIds: [sku], signInActivity: signedIn }),
      directoryUser({ id: 'u2', userPrincipalName: 'b@contoso.test', mail: 'bee@contoso.test', assignedSkuIds: [sku] }),
    ];
    const state = { ...directory, users };
    const read = await stateFromLines<DirectoryDeltaState>(throughJson(stateLines(state)), { users: compactDirectoryUser });
    expect(read).toEqual(state);
    const [a, b] = read!.users;
    expect(a!.assignedSkuIds).toBe(b!.assignedSkuIds);
    expect(a!.licenseErrors).toBe(b!.licenseErrors);
    expect(a!.mail).toBe('a@contoso.test');
    expect(b!.mail).toBe('bee@contoso.test');
    expect(a!.signInActivity!.lastSuccessfulSignInDateTime).toBe(a!.signInActivity!.lastNonInteractiveSignInDateTime);
    // A list many users hold is never changed in place for one of them.
    expect(() => (a!.assignedSkuIds as string[]).push('another')).toThrow(TypeError);
  });

  it('writes each user once as values, with the field names only in the first line', () => {
    const lines = [...stateLines(directory)].map((line) => JSON.stringify(line));
    expect(lines).toHaveLength(1 + 2 + 1);
    expect(lines[1]).not.toContain('userPrincipalName');
    expect(lines[0]).toContain('userPrincipalName');
  });

  it('keeps the keys of a record of another shape, and the triples of role assignments', async () => {
    const row = buildSystemUser({ id: 'r1' });
    const { profile: _dropped, ...rowWithoutProfile } = buildSystemUser({ id: 'r2' });
    const environment = {
      format: DELTA_STATE_FORMAT,
      fullAt: '2026-12-01T02:00:00.000Z',
      systemUsersLink: 'https://org.example/api/data/v9.2/systemusers?$deltatoken=1',
      roleAssignmentsLink: 'https://org.example/api/data/v9.2/systemuserrolescollection?$deltatoken=1',
      rows: [row, rowWithoutProfile],
      roleAssignments: [['i1', 'r1', 'role1']],
    } as EnvironmentDeltaState;
    expect(await stateFromLines(throughJson(stateLines(environment)))).toEqual(environment);
  });

  it('reads a state of another format as none, so the run reads in full', async () => {
    expect(await stateFromLines(throughJson([{ format: 1, fields: {}, lists: [] }]))).toBeNull();
  });
});
