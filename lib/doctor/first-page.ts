import type { Pages } from '../gateways/http/pages.js';

/** The first page of a listing, without reading the others (a probe, not a read). */
export async function firstPage<T>(pages: Pages<T>): Promise<T[]> {
  for await (const page of pages) return page;
  return [];
}
