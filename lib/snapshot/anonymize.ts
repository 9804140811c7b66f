import type { FixtureRecord, SnapshotFixture } from './fixture.js';

/**
 * `steward snapshot --anonymize`: people's names, UPNs and mails, and the tenant's own names for its
 * groups, environments and orgs, replaced by made-up ones; ids, licences, roles and settings kept, so
 * the audit of the copy finds what the audit of the tenant finds.
 *
 * Replacement is by word, the same word always becoming the same made-up word (case kept): a person
 * gets the same fake UPN in Entra ID and in every environment's `domainname`, "Alice Rossi" and
 * "Alice" and "alice@…" stay related, and two values that differed (a P1 profile drift, a renamed
 * user) still differ. Domains are replaced whole and stay plausible (`*.onmicrosoft.com` stays a
 * `*.onmicrosoft.com`). Phone numbers and postal addresses are kept: they are compared by the
 * profile check (P1) and are not names.
 */
export function anonymizeFixture(fixture: SnapshotFixture): SnapshotFixture {
  const p = new Pseudonyms();
  const copy = structuredClone(fixture);
  copy.tenant.defaultDomain = p.domain(copy.tenant.defaultDomain);
  for (const user of copy.graph.users) {
    rewrite(user, ['userPrincipalName', 'mail'], (v) => p.address(v));
    rewrite(user, ['displayName', 'givenName', 'surname'], (v) => p.words(v));
  }
  for (const group of copy.graph.groups) rewrite(group, ['displayName'], (v) => p.words(v));
  for (const environment of copy.environments) {
    rewrite(environment, ['displayName'], (v) => p.words(v));
    for (const row of records(environment.systemusers)) {
      rewrite(row, ['domainname'], (v) => p.address(v));
      rewrite(row, ['fullname', 'firstname', 'lastname'], (v) => p.words(v));
    }
    for (const team of records(environment.teams)) rewrite(team, ['name'], (v) => p.words(v));
    for (const unit of records(environment.businessunits)) rewrite(unit, ['name'], (v) => p.words(v));
  }
  for (const org of copy.salesforceOrgs) {
    rewrite(org, ['name'], (v) => p.words(v));
    // The part before `@` names integration users (S2): only the domain is the tenant's.
    for (const user of records(org.users)) rewrite(user, ['Username'], (v) => p.salesforceUsername(v));
  }
  return copy;
}

function records(value: unknown): FixtureRecord[] {
  return Array.isArray(value) ? (value as FixtureRecord[]) : [];
}

function rewrite(record: FixtureRecord, fields: readonly string[], replace: (value: string) => string): void {
  for (const field of fields) {
    const value = record[field];
    if (typeof value === 'string' && value.length > 0) record[field] = replace(value);
  }
}

const CONSONANTS = 'bdfgklmnprstvz';
const VOWELS = 'aeiou';
/** Kept as they are: the guest marker of a UPN (`#EXT#`) and Microsoft's own domain suffixes. */
const KEPT_WORDS = new Set(['ext']);
const KEPT_SUFFIXES = ['onmicrosoft.com', 'mail.onmicrosoft.com'];

/** Consistent made-up words and domains, in the order the values are met. */
class Pseudonyms {
  private readonly wordMap = new Map<string, string>();
  private readonly domainMap = new Map<string, string>();
  private readonly used = new Set<string>();

  /** Every word of a name or label replaced, separators and case kept. */
  words(value: string): string {
    return value.replace(/[\p{L}\p{N}]+/gu, (word) => this.word(word));
  }

  /** `local@domain`: the local part word by word, the domain whole; a guest's `#EXT#` kept. */
  address(value: string): string {
    const at = value.lastIndexOf('@');
    if (at < 0) return this.words(value);
    return `${this.words(value.slice(0, at))}@${this.domain(value.slice(at + 1))}`;
  }

  salesforceUsername(value: string): string {
    const at = value.lastIndexOf('@');
    return at < 0 ? value : `${value.slice(0, at)}@${this.domain(value.slice(at + 1))}`;
  }

  domain(value: string): string {
    const key = value.toLowerCase();
    let fake = this.domainMap.get(key);
    if (!fake) {
      const suffix = KEPT_SUFFIXES.find((s) => key.endsWith(`.${s}`));
      const label = `${this.fresh(2)}${this.domainMap.size + 1}`;
      fake = suffix ? `${label}.${suffix}` : `${label}.example.com`;
      this.domainMap.set(key, fake);
    }
    return fake;
  }

  private word(word: string): string {
    const key = word.toLowerCase();
    if (KEPT_WORDS.has(key)) return word;
    if (/^\p{N}+$/u.test(word)) return word;
    let fake = this.wordMap.get(key);
    if (!fake) {
      fake = this.fresh(Math.max(2, Math.min(4, Math.ceil(word.length / 2.5))));
      this.wordMap.set(key, fake);
    }
    return withCaseOf(word, fake);
  }

  /** A pronounceable word of `syllables` syllables not given out before and not one of the originals. */
  private fresh(syllables: number): string {
    for (let n = this.used.size + 1; ; n += 7919) {
      let word = '';
      let x = n;
      for (let i = 0; i < syllables; i++) {
        x = mix(x + i);
        word += CONSONANTS[x % CONSONANTS.length]! + VOWELS[Math.floor(x / 16) % VOWELS.length]!;
      }
      if (!this.used.has(word) && !this.wordMap.has(word)) {
        this.used.add(word);
        return word;
      }
    }
  }
}

/** An integer hash (xorshift-multiply): neighbouring counters give unrelated syllables. */
function mix(value: number): number {
  let x = Math.imul(value ^ (value >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return (x ^ (x >>> 16)) >>> 0;
}

function withCaseOf(original: string, fake: string): string {
  if (original === original.toUpperCase() && original !== original.toLowerCase()) return fake.toUpperCase();
  if (original[0] === original[0]!.toUpperCase() && original[0] !== original[0]!.toLowerCase()) return fake[0]!.toUpperCase() + fake.slice(1);
  return fake;
}
