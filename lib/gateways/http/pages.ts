/**
 * The listing convention of every gateway. A method that lists a collection (`listUsers`,
 * `listSystemUsers`, `listTeams`, `listEnvironments`, `listSubscribedSkus`…) returns `Pages<T>`:
 * an async iterable of pages, each page the items of one answer of the service, already in domain
 * shapes. The next page is requested only as the consumer reads on (the Graph user listing asks for
 * it while the consumer works on the page before), so an audit of 100,000 users handles each page as
 * it arrives and never holds more than one or two answers of the wire. A use case that wants the
 * whole collection says so with `allPages`. Methods named `get…` or `find…` answer one thing whole: a
 * user, a row, the members of the admin roles, a map of groups, an org's snapshot.
 */
export type Pages<T> = AsyncIterable<T[]>;

/** Every item of every page, in order. */
export async function allPages<T>(pages: Pages<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) for (const item of page) all.push(item);
  return all;
}

/** The first page of a listing, without reading the others (a probe, not a read). */
export async function firstPage<T>(pages: Pages<T>): Promise<T[]> {
  for await (const page of pages) return page;
  return [];
}

/** One answer of a collection whose pages link to the next one, read by a gateway. */
export interface LinkedPage<T> {
  items: T[];
  /** `@odata.nextLink`, BAP's `nextLink`, Salesforce's `nextRecordsUrl`; absent or empty on the last page. */
  next: string | undefined;
}

/**
 * Every page of a linked collection, from `first` to the end. Each page is requested when the
 * consumer asks for it; with `prefetch`, as soon as its link is known, so that handling a page
 * overlaps the round trip of the next (one page more in memory: for the longest chains only).
 */
export async function* linkedPages<T>(
  first: string,
  read: (url: string) => Promise<LinkedPage<T>>,
  options: { prefetch?: boolean } = {},
): Pages<T> {
  const request = (url: string) => {
    const page = read(url);
    // A failure while the consumer is busy, or after it stopped early, is not an unhandled
    // rejection; awaiting the page below still throws it.
    page.catch(() => undefined);
    return page;
  };
  let pending: Promise<LinkedPage<T>> | undefined = request(first);
  while (pending) {
    const page: LinkedPage<T> = await pending;
    pending = options.prefetch && page.next ? request(page.next) : undefined;
    yield page.items;
    if (!options.prefetch && page.next) pending = request(page.next);
  }
}
