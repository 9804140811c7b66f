import { isAbsolute, resolve } from 'node:path';

/**
 * A path the admin typed, from the folder they typed it in. `npm run steward` runs in the
 * repository's folder and says where it was started in INIT_CWD; `tsx lib/cli/main.ts` leaves the
 * current folder as it was.
 */
export function fromWorkingFolder(path: string): string {
  if (isAbsolute(path)) return path;
  return resolve(process.env.INIT_CWD ?? process.cwd(), path);
}
