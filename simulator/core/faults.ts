import type { Fixture, FaultScope } from './fixture.js';
import { seededRandom, type Random } from './random.js';

export type FaultDecision =
  | { kind: 'none'; latencyMs: number }
  | { kind: 'down'; latencyMs: number }
  | { kind: 'throttle'; latencyMs: number; retryAfterSeconds: number }
  | { kind: 'error'; latencyMs: number };

/**
 * Faults from the fixture's `faults` section. A request belongs to several scopes (the service,
 * then the environment or org id): the most specific scope that sets a value wins.
 * Draws come from one seeded generator, so a run with the same requests in the same order is
 * repeatable.
 */
export class FaultPlan {
  private random: Random;
  private scopes: Map<string, FaultScope>;

  constructor(faults: Fixture['faults'] | undefined, extra: { latencyMs?: number } = {}) {
    this.random = seededRandom(typeof faults?.seed === 'number' ? faults.seed : 1);
    this.scopes = new Map();
    for (const [name, value] of Object.entries(faults ?? {})) {
      if (name !== 'seed' && typeof value === 'object') this.scopes.set(name, value);
    }
    if (extra.latencyMs) this.scopes.set('*', { latencyMs: extra.latencyMs });
  }

  /** Replace the faults of one scope (tests turn a target down or up between runs). */
  set(scope: string, fault: FaultScope | undefined): void {
    if (fault) this.scopes.set(scope, fault);
    else this.scopes.delete(scope);
  }

  /**
   * A behaviour of the real services that the fixture turns on (R4–R6, SPEC §8), from the most
   * specific scope that sets it; not drawn, so it never consumes the seeded generator.
   */
  behaviour<K extends 'replicationLagMs' | 'licensePropagationMs' | 'dailyLimitExceeded' | 'deltaTokenExpired'>(scopes: readonly string[], key: K): FaultScope[K] {
    for (const scope of [...scopes].reverse()) {
      const value = this.scopes.get(scope)?.[key];
      if (value !== undefined) return value;
    }
    return undefined;
  }

  private resolve(scopes: readonly string[]): Required<Omit<FaultScope, 'down' | 'replicationLagMs' | 'licensePropagationMs' | 'dailyLimitExceeded' | 'deltaTokenExpired'>> & { down: boolean } {
    const chain = ['*', ...scopes].map((s) => this.scopes.get(s)).filter((s): s is FaultScope => !!s);
    const pick = <K extends keyof FaultScope>(key: K, fallback: NonNullable<FaultScope[K]>) => {
      for (let i = chain.length - 1; i >= 0; i--) {
        const value = chain[i]![key];
        if (value !== undefined) return value as NonNullable<FaultScope[K]>;
      }
      return fallback;
    };
    return {
      throttleRate: pick('throttleRate', 0),
      errorRate: pick('errorRate', 0),
      latencyMs: pick('latencyMs', 0),
      down: pick('down', false),
      retryAfterSeconds: pick('retryAfterSeconds', 1),
    };
  }

  decide(scopes: readonly string[]): FaultDecision {
    const f = this.resolve(scopes);
    if (f.down) return { kind: 'down', latencyMs: f.latencyMs };
    if (f.throttleRate > 0 && this.random() < f.throttleRate)
      return { kind: 'throttle', latencyMs: f.latencyMs, retryAfterSeconds: f.retryAfterSeconds };
    if (f.errorRate > 0 && this.random() < f.errorRate) return { kind: 'error', latencyMs: f.latencyMs };
    return { kind: 'none', latencyMs: f.latencyMs };
  }

  /** For one item inside a `$batch`: only throttling is drawn per item (SPEC §5). */
  decideItem(scopes: readonly string[]): { throttled: false } | { throttled: true; retryAfterSeconds: number } {
    const f = this.resolve(scopes);
    if (f.throttleRate > 0 && this.random() < f.throttleRate) return { throttled: true, retryAfterSeconds: f.retryAfterSeconds };
    return { throttled: false };
  }
}
