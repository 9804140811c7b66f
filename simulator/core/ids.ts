import { createHash } from 'node:crypto';

/** A stable, UUID-shaped id from a name (the same name gives the same id in every run). */
export function stableId(...parts: (string | number)[]): string {
  const h = createHash('sha1').update(parts.join('/')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** An 18-character Salesforce-looking id with the given 3-character key prefix. */
export function salesforceId(prefix: string, ...parts: (string | number)[]): string {
  const h = createHash('sha1').update(parts.join('/')).digest('hex').toUpperCase();
  return `${prefix}${h.slice(0, 15)}`;
}
