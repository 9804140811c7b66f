import { describe, expect, it } from 'vitest';
import { DELTA_STATE_FORMAT, stateFromLines, stateLines, type DirectoryDeltaState, type EnvironmentDeltaState } from '../../lib/audit/delta-state.js';
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
