import type { Simulator } from '../../../simulator/index.js';

/** Reads of the simulated tenant's live state, in the words the assertions need. */

const same = (a: unknown, b: unknown) => typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();

export function tenantState(sim: Simulator) {
  const state = sim.state;
  return {
    user: (upnOrId: string) =>
      state.graph.users.find((u) => same(u.userPrincipalName, upnOrId) || same(u.id, upnOrId)) as (Record<string, unknown> & { id: string; assignedLicenses: { skuId: string }[] }) | undefined,
    licensesOf: (upnOrId: string) =>
      (state.graph.users.find((u) => same(u.userPrincipalName, upnOrId) || same(u.id, upnOrId))?.assignedLicenses ?? []).map((l) => l.skuId),
    consumed: (skuId: string) => state.graph.subscribedSkus.find((s) => same(s.skuId, skuId))?.consumedUnits,
    members: (groupId: string) => state.graph.groups.find((g) => same(g.id, groupId))?.members ?? [],
    row: (environmentId: string, entraId: string) =>
      state.environments.find((e) => same(e.id, environmentId))?.systemusers.find((r) => same(r.azureactivedirectoryobjectid, entraId)),
    rows: (environmentId: string) => state.environments.find((e) => same(e.id, environmentId))?.systemusers ?? [],
    salesforceUser: (orgId: string, userId: string) => state.salesforceOrgs.find((o) => o.id === orgId)?.users.find((u) => u.Id === userId),
  };
}
