import { randomInt } from 'node:crypto';

/**
 * U1: the temporary password of a new account. Drawn with node:crypto, at least one character of
 * each class Entra's complexity rule counts, shuffled so the classes are not in a fixed place.
 * Look-alike characters (0/O, 1/l/I) are left out: the password may have to be read out once.
 * It is returned to the caller at most once and never logged or stored.
 */

const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const DIGITS = '23456789';
const SYMBOLS = '!@#$%^&*-_=+?';
const ALL = UPPER + LOWER + DIGITS + SYMBOLS;

const pick = (alphabet: string) => alphabet[randomInt(alphabet.length)]!;

export function generateTemporaryPassword(length = 20): string {
  if (length < 16) throw new RangeError('a temporary password has at least 16 characters');
  const chars = [pick(UPPER), pick(LOWER), pick(DIGITS), pick(SYMBOLS)];
  while (chars.length < length) chars.push(pick(ALL));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}
