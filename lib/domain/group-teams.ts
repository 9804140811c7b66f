import type { DataverseTeam, DirectoryUser, SecurityGroup } from './model.js';

/**
 * U4: a Dataverse team bound to an Entra group (`teamtype` 2 security group, 3 Microsoft 365 group)
 * gives its security roles to the group's **direct** members of the team's membership type:
 * 0 members and guests, 1 members (`userType` Member), 2 owners (Member users among the group's
 * owners), 3 guests (Guest users among its members) — the mapping of
 * power-platform/admin/manage-group-teams.md. Dataverse writes `teammembership` rows only when a
 * member first accesses the environment (developer/data-platform/aad-group-team.md, "Just-in-time
 * updates"), so membership is decided from Entra here, never from those rows. Owner and access teams
 * (`teamtype` 0 and 1) count through their rows (U3). Pure.
 */

export const TeamType = { Owner: 0, Access: 1, SecurityGroup: 2, Microsoft365Group: 3 } as const;
export const TeamMembershipType = { MembersAndGuests: 0, Members: 1, Owners: 2, Guests: 3 } as const;

/** A team bound to an Entra group (U4); its `teammembership` rows do not say who holds its roles. */
export const isGroupTeam = (team: Pick<DataverseTeam, 'teamType' | 'groupId'>): team is Pick<DataverseTeam, 'teamType'> & { groupId: string } =>
  (team.teamType === TeamType.SecurityGroup || team.teamType === TeamType.Microsoft365Group) && typeof team.groupId === 'string' && team.groupId !== '';

/** Where a user stands in a group team's group: direct member, owner, and Member or Guest. */
export interface GroupTeamStanding {
  directMember: boolean;
  owner: boolean;
  userType: DirectoryUser['userType'];
}

/** Whether a group team's membership type takes a user of this standing (U4). */
export function groupTeamTakes(membershipType: number | undefined, standing: GroupTeamStanding): boolean {
  const member = standing.userType === 'Member';
  switch (membershipType ?? TeamMembershipType.MembersAndGuests) {
    case TeamMembershipType.MembersAndGuests:
      return standing.directMember;
    case TeamMembershipType.Members:
      return standing.directMember && member;
    case TeamMembershipType.Owners:
      return standing.owner && member;
    case TeamMembershipType.Guests:
      return standing.directMember && !member;
    default:
      return false;
  }
}

export const membershipTypeName = (membershipType: number | undefined): string =>
  ['members and guests', 'members', 'owners', 'guests'][membershipType ?? 0] ?? `membership type ${membershipType}`;

/** A group's direct user members and owners as sets (an environment asks about each of its rows). */
export interface GroupPeople {
  members: Set<string>;
  owners: Set<string>;
}

export function groupPeople(group: Pick<SecurityGroup, 'members' | 'ownerIds'>): GroupPeople {
  return {
    members: new Set(group.members.filter((m) => m.kind === 'user').map((m) => m.id.toLowerCase())),
    owners: new Set(group.ownerIds.map((id) => id.toLowerCase())),
  };
}

/** The group teams of a list whose group takes this user, given each group's people (absent group: none). */
export function groupTeamsOf(
  teams: readonly DataverseTeam[],
  peopleOf: (groupId: string) => GroupPeople | undefined,
  user: Pick<DirectoryUser, 'id' | 'userType'>,
): DataverseTeam[] {
  const id = user.id.toLowerCase();
  return teams.filter((team) => {
    if (!isGroupTeam(team)) return false;
    const people = peopleOf(team.groupId.toLowerCase());
    if (!people) return false;
    return groupTeamTakes(team.membershipType, { directMember: people.members.has(id), owner: people.owners.has(id), userType: user.userType });
  });
}
