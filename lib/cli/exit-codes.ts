/**
 * The exit codes of `steward`, one meaning each, so a script or a pipeline can branch on them
 * (the README's table lists them).
 */
export const EXIT = {
  /** Done, and nothing to act on. */
  ok: 0,
  /** Done, and something to act on: open findings at the `--fail-on` level, a not-eligible user, a readiness problem. */
  attention: 1,
  /** The audit ran but did not read every target (`partial`) or could not run (`failed`). */
  incomplete: 2,
  /** The command could not run: a bad option, an unknown name, an unreadable file, an unreachable service. */
  error: 3,
} as const;
