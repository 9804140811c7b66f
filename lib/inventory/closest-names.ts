import leven from 'leven';

/**
 * Up to `limit` of `names` nearest to what was typed: those that contain it first, then by edit
 * distance, keeping only those within half the typed length (a guess farther off helps nobody).
 */
export function closestNames(typed: string, names: readonly string[], limit = 3): string[] {
  const wanted = typed.trim().toLowerCase();
  const scored = names.map((name) => {
    const lower = name.toLowerCase();
    // A label is `name (id)`: its name is what comes before the last parenthesis.
    const base = lower.lastIndexOf(' (') > 0 ? lower.slice(0, lower.lastIndexOf(' (')) : lower;
    const contains = lower.includes(wanted) || wanted.includes(base);
    // 'Wingtp' is near 'Wingtip (Salesforce)': also measured without the name's own parentheses.
    const bare = base.replace(/\s*\([^)]*\)/g, '').trim();
    const distance = Math.min(leven(wanted, base), bare ? leven(wanted, bare) : Infinity);
    return { name, score: contains ? -1 : distance };
  });
  const bound = Math.max(2, Math.ceil(wanted.length / 2));
  return scored
    .filter((s) => s.score <= bound)
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
    .slice(0, limit)
    .map((s) => s.name);
}
