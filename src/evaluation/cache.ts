// Per-process cache of evaluation configs, so that a `flags` request issues no SQL for them.
//
// Freshness: an admin write announces its changes (src/db/config-changes.ts) after it committed; this process
// drops its entries at once and tells the other server processes on the same database with
// NOTIFY. A notification can be lost (e.g. while the listening connection is down), so an
// entry also expires `ttlMs` after its load started: that is the bound on staleness.
import type { EvaluationConfig } from './config.js';

interface Entry {
  promise: Promise<EvaluationConfig | undefined>;
  /** Resolved value, for the hot path (no await on a settled promise needed). */
  value: EvaluationConfig | undefined;
  settled: boolean;
  expiresAt: number;
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
  ) {}

  /** The config, loading it once for all concurrent callers when missing or expired. */
  get(environmentId: number): Promise<EvaluationConfig | undefined> | EvaluationConfig | undefined {
    const entry = this.entries.get(environmentId);
    if (entry && entry.expiresAt > this.now()) return entry.settled ? entry.value : entry.promise;
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

  private startLoad(environmentId: number): Promise<EvaluationConfig | undefined> {
    const generation = this.generations.get(environmentId) ?? 0;
    const entry: Entry = {
      promise: undefined as never,
      value: undefined,
      settled: false,
      // Counted from the start of the load: what it reads is at least this fresh.
      expiresAt: this.now() + this.ttlMs,
    };
    entry.promise = this.load(environmentId).then(
      (config) => {
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
