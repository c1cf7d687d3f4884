// Per-process cache of evaluation configs, so that a `flags` request issues no SQL for them.
//
// Freshness: an admin write announces its changes (src/db/config-changes.ts) after it committed; this process
// drops its entries at once and tells the other server processes on the same database with
// NOTIFY. A notification can be lost (e.g. while the listening connection is down), so an
// entry also expires `ttlMs` after its load started: that is the bound on staleness.
// Expiry by time alone is foreseen: the first request after REFRESH_AT of the TTL starts the next
// load in the background and is answered from the entry, which is replaced once the load is in.
// Requests then never wait for a TTL reload (at 1,000 requests a second, tens of them would queue
// behind each one); an invalidation still makes the next request wait for a fresh load.
// A reload by time that finds the config unchanged keeps the loaded object: what is remembered
// per config object (evaluations of `flags`, see memo.ts) stays valid instead of being redone for
// every identity after every TTL.
import { type EvaluationConfig, sameEvaluationConfig } from './config.js';

/** The share of the TTL after which a request starts the next load in the background. */
const REFRESH_AT = 0.8;

interface Entry {
  promise: Promise<EvaluationConfig | undefined>;
  /** Resolved value, for the hot path (no await on a settled promise needed). */
  value: EvaluationConfig | undefined;
  settled: boolean;
  expiresAt: number;
  refreshAt: number;
  /** The load replacing this entry, once started (see REFRESH_AT). */
  next?: Entry;
}

export class EvaluationConfigCache {
  private readonly entries = new Map<number, Entry>();
  /**
   * Bumped by every invalidation of an environment: a load that started before an
   * invalidation and finished after it must not be kept, even if it got past the delete.
   */
  private readonly generations = new Map<number, number>();

  constructor(
    private readonly load: (environmentId: number) => Promise<EvaluationConfig | undefined>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly same: (a: EvaluationConfig, b: EvaluationConfig) => boolean = sameEvaluationConfig,
  ) {}

  /** The config, loading it once for all concurrent callers when missing or expired. */
  get(environmentId: number): Promise<EvaluationConfig | undefined> | EvaluationConfig | undefined {
    const entry = this.entries.get(environmentId);
    if (entry) {
      const now = this.now();
      if (entry.expiresAt > now) {
        if (!entry.settled) return entry.promise;
        if (entry.next === undefined && now >= entry.refreshAt) this.refresh(environmentId, entry);
        return entry.value;
      }
      // Expired with its successor still loading (a slow database): wait for that one, not a third.
      if (entry.next !== undefined && !entry.next.settled) return entry.next.promise;
    }
    return this.startLoad(environmentId);
  }

  invalidate(environmentIds: Iterable<number>): void {
    for (const id of environmentIds) {
      this.generations.set(id, (this.generations.get(id) ?? 0) + 1);
      this.entries.delete(id);
    }
  }

  clear(): void {
    this.invalidate([...this.entries.keys()]);
  }

  /** The entry's successor, loaded in the background; it replaces the entry if nothing invalidated it meanwhile. */
  private refresh(environmentId: number, current: Entry): void {
    const generation = this.generations.get(environmentId) ?? 0;
    const next = this.newEntry();
    current.next = next;
    next.promise = this.load(environmentId).then((loaded) => {
      const config = this.unchanged(current.value, loaded);
      next.value = config;
      next.settled = true;
      if ((this.generations.get(environmentId) ?? 0) === generation && this.entries.get(environmentId) === current) {
        if (config === undefined) this.entries.delete(environmentId);
        else this.entries.set(environmentId, next);
      }
      return config;
    });
    // A failed refresh leaves the entry until it expires; the next request after that loads anew.
    next.promise.catch(() => {
      if (current.next === next) current.next = undefined;
      current.refreshAt = Infinity;
    });
  }

  /** The config already loaded when a reload by time found it unchanged, else the new one. */
  private unchanged(loadedBefore: EvaluationConfig | undefined, loaded: EvaluationConfig | undefined): EvaluationConfig | undefined {
    return loadedBefore !== undefined && loaded !== undefined && this.same(loadedBefore, loaded) ? loadedBefore : loaded;
  }

  private newEntry(): Entry {
    const now = this.now();
    return {
      promise: undefined as never,
      value: undefined,
      settled: false,
      // Counted from the start of the load: what it reads is at least this fresh.
      expiresAt: now + this.ttlMs,
      refreshAt: now + this.ttlMs * REFRESH_AT,
    };
  }

  private startLoad(environmentId: number): Promise<EvaluationConfig | undefined> {
    const generation = this.generations.get(environmentId) ?? 0;
    // An expired entry (never one an invalidation removed): its config is kept if the load finds it unchanged.
    const expired = this.entries.get(environmentId)?.value;
    const entry = this.newEntry();
    entry.promise = this.load(environmentId).then(
      (loaded) => {
        const config = this.unchanged(expired, loaded);
        if ((this.generations.get(environmentId) ?? 0) === generation) {
          entry.value = config;
          entry.settled = true;
          // An unknown environment is not remembered: it may be created any time.
          if (config === undefined && this.entries.get(environmentId) === entry) this.entries.delete(environmentId);
        }
        return config;
      },
      (error: unknown) => {
        if (this.entries.get(environmentId) === entry) this.entries.delete(environmentId);
        throw error;
      },
    );
    // A TTL of 0 disables caching: every request loads.
    if (this.ttlMs > 0) this.entries.set(environmentId, entry);
    return entry.promise;
  }
}
