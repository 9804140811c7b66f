/**
 * One seeded generator for everything in the simulator and the tests that must repeat: the fixture's
 * fault draws (SPEC §5 "drawn from a seeded generator, so a run is repeatable") and the fuzz test's
 * requests. mulberry32: 32 bits of state, fast, and the same sequence for the same seed on every
 * machine. (npm's `pure-rand` offers other algorithms only; taking one would change every recorded
 * fault sequence, and so the request counts the gateway tests and the benchmark compare.)
 */
export type Random = () => number;

/** A generator of floats in [0, 1), the same sequence for the same seed. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
