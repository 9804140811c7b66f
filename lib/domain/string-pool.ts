/**
 * Shares equal strings among the users of one listing (a Graph read, a kept delta state). A tenant's users repeat the same few job
 * titles, cities, countries, usage locations, given names and SKU ids; a 100,000-user directory is
 * held for a whole audit run, and one copy of each value instead of one per user saves tens of MB.
 * Bounded, so a listing of unusually varied values stops sharing rather than growing without limit.
 */
export class StringPool {
  private readonly pool = new Map<string, string>();

  constructor(private readonly limit = 100_000) {}

  share<T extends string | null>(value: T): T {
    if (value === null) return value;
    const known = this.pool.get(value);
    if (known !== undefined) return known as T;
    if (this.pool.size < this.limit) this.pool.set(value, value);
    return value;
  }
}

/**
 * The fields of a directory user whose values repeat across a tenant (the same few given names,
 * job titles, offices, countries, usage locations and SKU ids): the ones worth sharing.
 */
export const SHARED_USER_FIELDS = ['givenName', 'surname', 'jobTitle', 'businessPhones', 'streetAddress', 'city', 'state', 'country', 'usageLocation', 'userType', 'assignedSkuIds', 'directSkuIds'] as const;
