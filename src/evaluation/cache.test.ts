import { describe, expect, it } from 'vitest';
import { EvaluationConfigCache } from './cache.js';
import type { EvaluationConfig } from './config.js';

/** A load whose completion the test controls; each config's `version` tells the loads apart (`again` repeats one). */
function controlledLoads() {
  const pending: { environmentId: number; finish: (config: EvaluationConfig) => void; fail: (error: Error) => void }[] = [];
  let version = 0;
  const load = (environmentId: number) =>
    new Promise<EvaluationConfig | undefined>((resolve, reject) => {
      pending.push({ environmentId, finish: resolve, fail: reject });
    });
  const config = () => ({ environmentId: 1, version: `v${++version}`, features: [] }) as unknown as EvaluationConfig;
  /** A new object loaded with the same content as `loaded`, the features' `overridden` changed where `overridden` says. */
  const again = (loaded: EvaluationConfig, overridden?: boolean[]) =>
    ({ ...loaded, features: loaded.features.map((feature, index) => ({ ...feature, overridden: overridden?.[index] ?? feature.overridden })) }) as EvaluationConfig;
  return { pending, load, config, again };
}

/**
 * A cache on a clock the test sets (`clock.now`), its first config loaded at time 0.
 * `requestAt(t)`: a request at time t (past 80% of the TTL it starts a load in the background);
 * `loadedAt(t, config)`: a request at time t whose load brings `config`, settled.
 */
async function loadedCache() {
  const loads = controlledLoads();
  const clock = { now: 0 };
  const cache = new EvaluationConfigCache(loads.load, 30_000, () => clock.now);
  void cache.get(1);
  const first = loads.config();
  loads.pending[0].finish(first);
  await Promise.resolve();
  const requestAt = (now: number) => {
    clock.now = now;
    return cache.get(1);
  };
  const loadedAt = async (now: number, config: EvaluationConfig) => {
    void requestAt(now);
    loads.pending.at(-1)!.finish(config);
    await Promise.resolve();
  };
  return { ...loads, clock, cache, first, requestAt, loadedAt };
}

describe('evaluation config cache', () => {
  it('shares one load between concurrent callers and serves the result without loading again', async () => {
    const { pending, load, config } = controlledLoads();
    let loads = 0;
    const cache = new EvaluationConfigCache((environmentId) => (loads++, load(environmentId)), 30_000);
    const a = cache.get(1);
    const b = cache.get(1);
    expect(pending).toHaveLength(1);
    const loaded = config();
    pending[0].finish(loaded);
    expect(await a).toBe(loaded);
    expect(await b).toBe(loaded);
    expect(cache.get(1)).toBe(loaded);
    expect(loads).toBe(1);
  });

  it('does not keep a load that an invalidation overtook', async () => {
    const { pending, load, config } = controlledLoads();
    const cache = new EvaluationConfigCache(load, 30_000);
    const stale = cache.get(1);
    cache.invalidate([1]);
    const fresh = cache.get(1);
    expect(pending).toHaveLength(2);
    const staleConfig = config();
    pending[0].finish(staleConfig);
    expect(await stale).toBe(staleConfig);
    const freshConfig = config();
    pending[1].finish(freshConfig);
    expect(await fresh).toBe(freshConfig);
    expect(await cache.get(1)).toBe(freshConfig);
  });

  it('expires entries after the TTL and forgets failed loads', async () => {
    const { pending, load, config } = controlledLoads();
    let now = 1_000;
    const cache = new EvaluationConfigCache(load, 30_000, () => now);
    const first = cache.get(1);
    pending[0].fail(new Error('database down'));
    await expect(first).rejects.toThrow('database down');
    const second = cache.get(1);
    expect(pending).toHaveLength(2);
    const loaded = config();
    pending[1].finish(loaded);
    expect(await second).toBe(loaded);
    now += 29_999;
    expect(cache.get(1)).toBe(loaded);
    now += 1;
    void cache.get(1);
    expect(pending).toHaveLength(3);
  });

  it('invalidates only the named environments', async () => {
    const { pending, load, config } = controlledLoads();
    const cache = new EvaluationConfigCache(load, 30_000);
    void cache.get(1);
    void cache.get(2);
    pending[0].finish(config());
    pending[1].finish(config());
    await Promise.resolve();
    cache.invalidate([2]);
    expect(cache.get(1)).toBeDefined();
    void cache.get(2);
    expect(pending.map((p) => p.environmentId)).toEqual([1, 2, 2]);
  });

  it('loads the next config in the background from 80% of the TTL: no request waits, the new one replaces the old', async () => {
    const { pending, config, clock, cache, first } = await loadedCache();
    clock.now = 23_999;
    expect(cache.get(1)).toBe(first);
    expect(pending).toHaveLength(1);
    clock.now = 24_000;
    expect(cache.get(1)).toBe(first);
    expect(cache.get(1)).toBe(first);
    expect(pending).toHaveLength(2);
    const second = config();
    pending[1].finish(second);
    await Promise.resolve();
    expect(cache.get(1)).toBe(second);
    // The new entry's TTL counts from its own load's start.
    clock.now = 24_000 + 29_999;
    expect(cache.get(1)).toBe(second);
  });

  it('does not keep a background load that an invalidation overtook: the next request waits for a fresh one', async () => {
    const { pending, config, cache, requestAt } = await loadedCache();
    void requestAt(25_000);
    expect(pending).toHaveLength(2);
    cache.invalidate([1]);
    const fresh = cache.get(1);
    expect(fresh).toBeInstanceOf(Promise);
    expect(pending).toHaveLength(3);
    pending[1].finish(config());
    const freshConfig = config();
    pending[2].finish(freshConfig);
    expect(await fresh).toBe(freshConfig);
    expect(cache.get(1)).toBe(freshConfig);
  });

  it('keeps the entry until it expires when the background load fails, then loads anew', async () => {
    const { pending, config, cache, first, requestAt } = await loadedCache();
    expect(requestAt(25_000)).toBe(first);
    pending[1].fail(new Error('database down'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(cache.get(1)).toBe(first);
    expect(pending).toHaveLength(2);
    const again = requestAt(30_000);
    expect(again).toBeInstanceOf(Promise);
    expect(pending).toHaveLength(3);
    const loaded = config();
    pending[2].finish(loaded);
    expect(await again).toBe(loaded);
  });

  it('answers a request after expiry from the background load still on its way, without a third load', async () => {
    const { pending, config, cache, requestAt } = await loadedCache();
    void requestAt(25_000);
    const waiting = requestAt(30_000);
    expect(pending).toHaveLength(2);
    const second = config();
    pending[1].finish(second);
    expect(await waiting).toBe(second);
    expect(cache.get(1)).toBe(second);
  });

  it('keeps the loaded config object when a reload by time finds nothing changed, so what is remembered for it stays valid', async () => {
    const { pending, again, cache, first, requestAt, loadedAt } = await loadedCache();
    await loadedAt(25_000, again(first));
    expect(cache.get(1)).toBe(first);
    // The kept config counts as freshly loaded: no load until 80% of a TTL after the reload started.
    expect(requestAt(25_000 + 23_999)).toBe(first);
    expect(pending).toHaveLength(2);
    // Expired with no request in the background window: the load it waits for keeps it too.
    const afterExpiry = requestAt(25_000 + 30_000);
    expect(afterExpiry).toBeInstanceOf(Promise);
    pending[2].finish(again(first));
    expect(await afterExpiry).toBe(first);
    expect(cache.get(1)).toBe(first);
  });

  it('replaces the config when a reload finds another version or another feature overridden, and never keeps one across an invalidation', async () => {
    const { pending, config, again, cache, loadedAt } = await loadedCache();
    const withFeature = { ...config(), features: [{ name: 'a', overridden: false }] } as unknown as EvaluationConfig;
    cache.invalidate([1]);
    await loadedAt(0, withFeature);
    expect(cache.get(1)).toBe(withFeature);
    // The same version, but an identity now overrides the feature (not part of the version).
    const overridden = again(withFeature, [true]);
    await loadedAt(25_000, overridden);
    expect(cache.get(1)).toBe(overridden);
    // Another version.
    const changed = { ...config(), features: overridden.features } as EvaluationConfig;
    await loadedAt(50_000, changed);
    expect(cache.get(1)).toBe(changed);
    // An invalidation drops the entry: the load after it is taken as it comes, even if equal.
    cache.invalidate([1]);
    const afterInvalidation = cache.get(1);
    const equal = again(changed);
    pending[4].finish(equal);
    expect(await afterInvalidation).toBe(equal);
  });
});
