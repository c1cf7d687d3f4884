// What `flags` evaluated for an identity, remembered until its config or the identity changes,
// so that a returning identity's request runs no engine call (no segment matching, no md5 of
// the multivariate splits, no new flag objects to collect).
//
// Exactness comes from object identity, not from timers: an entry answers only for the same
// EvaluationConfig object (the config cache hands out a new one after every change announced
// here or by another process, and after a TTL reload that found the config changed) and the same
// KnownIdentity object (the identity store hands out a new one whenever the stored traits or
// overrides may have changed: a trait-changing request, an override change bumping the
// environment's generation, a once-a-minute lastSeenAt write that found the row changed).
//
// Memory: at most MEMO_FLAGS_MAX flags remembered in all (20,000 identities of an environment
// of 100 features), and the flag objects are shared: equal results of a feature under one
// config (most identities get the same answer for most features) are one object, so an
// identity costs about its arrays of pointers.
import type { FlagResult } from '../engine/index.js';
import type { EvaluationConfig } from './config.js';
import type { KnownIdentity } from './identities.js';

/** A flag as `flags` serves it (service.ts's EvaluatedFlag; generic here, as service.ts uses this module). */
type MemoFlag = FlagResult & { experiment?: unknown };

/** Shared by every request that gets it: nobody may change these arrays or their objects. */
export interface Evaluated<F extends MemoFlag, S> {
  flags: F[];
  /** The multivariate flags among them served with a variant key (for recordExposures). */
  served: S[];
}

/** Flags remembered per process, over all identities (8 bytes each, plus about 100 bytes per identity). */
export const MEMO_FLAGS_MAX = 2_000_000;
/** Distinct results kept per feature for sharing; beyond that a result is used unshared. */
const SHARED_PER_FEATURE = 16;

interface Entry<F extends MemoFlag, S> {
  /** The config's serial: an entry must not keep an old config (its prepared engine) alive. */
  config: number;
  identity: KnownIdentity;
  evaluated: Evaluated<F, S>;
}

/** A flag result, and what recordExposures records for it when it is served with a variant. */
export interface SharedFlag<F extends MemoFlag, S> {
  flag: F;
  served: S | undefined;
}

export class EvaluationMemo<F extends MemoFlag, S> {
  private readonly entries = new Map<string, Entry<F, S>>();
  /** Flags held by `entries`. */
  private flagCount = 0;
  private readonly anonymous = new WeakMap<EvaluationConfig, Evaluated<F, S>>();
  private readonly serials = new WeakMap<EvaluationConfig, number>();
  private nextSerial = 0;
  /** Per config and feature (config order), the distinct results seen. */
  private readonly shared = new WeakMap<EvaluationConfig, SharedFlag<F, S>[][]>();

  constructor(private readonly maxFlags = MEMO_FLAGS_MAX) {}

  /** What was evaluated for this identity (undefined: no identity) under this config, if remembered. */
  get(config: EvaluationConfig, identity: KnownIdentity | undefined, key: string | undefined): Evaluated<F, S> | undefined {
    if (!identity || key === undefined) return this.anonymous.get(config);
    const entry = this.entries.get(key);
    return entry && entry.config === this.serials.get(config) && entry.identity === identity ? entry.evaluated : undefined;
  }

  set(config: EvaluationConfig, identity: KnownIdentity | undefined, key: string | undefined, evaluated: Evaluated<F, S>): void {
    if (!identity || key === undefined) {
      this.anonymous.set(config, evaluated);
      return;
    }
    // Re-inserting moves the key to the end: the first keys are the least recently evaluated.
    this.forget(key);
    if (evaluated.flags.length > this.maxFlags) return;
    this.entries.set(key, { config: this.serialOf(config), identity, evaluated });
    this.flagCount += evaluated.flags.length;
    if (this.flagCount <= this.maxFlags) return;
    // Down to 90%: evictions come in batches, not on every new identity.
    const target = this.maxFlags * 0.9;
    for (const oldest of this.entries.keys()) {
      if (this.flagCount <= target) break;
      this.forget(oldest);
    }
  }

  private serialOf(config: EvaluationConfig): number {
    let serial = this.serials.get(config);
    if (serial === undefined) this.serials.set(config, (serial = ++this.nextSerial));
    return serial;
  }

  private forget(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.flagCount -= entry.evaluated.flags.length;
  }

  /** The one object for a result equal to `candidate` of feature `index` under `config`. */
  share(config: EvaluationConfig, index: number, candidate: SharedFlag<F, S>): SharedFlag<F, S> {
    let byFeature = this.shared.get(config);
    if (!byFeature) this.shared.set(config, (byFeature = []));
    const seen = (byFeature[index] ??= []);
    for (const known of seen) if (sameResult(known.flag, candidate.flag)) return known;
    if (seen.length < SHARED_PER_FEATURE) seen.push(candidate);
    return candidate;
  }

  /** Forgets every identity. */
  clear(): void {
    this.entries.clear();
    this.flagCount = 0;
  }
}

/** Equal as `flags` serves them (values by reference: they come from the config). */
function sameResult(a: MemoFlag, b: MemoFlag): boolean {
  return (
    a.name === b.name &&
    a.enabled === b.enabled &&
    a.value === b.value &&
    a.reason === b.reason &&
    a.variant === b.variant &&
    a.metadata === b.metadata &&
    a.experiment === b.experiment
  );
}
