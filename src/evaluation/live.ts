// Live flags (SPEC.md section 11): `flagsChanged` streams of this process. Each stream answers
// the flags at once, then again after every change of its environment's config (announced on
// db/config-changes.ts, by this process or another through LISTEN/NOTIFY) that changes them,
// evaluated on the same path as `flags`. Bounded per process; ended all at once on drain.
import type { EnvironmentRef } from '../auth/environment-keys.js';
import type { ConfigChanges } from '../db/config-changes.js';
import { AppError } from '../errors/app-errors.js';
import type { EvaluatedFlag, EvaluationRequest, EvaluationService } from './service.js';

/** A burst of admin writes (one per feature, say) costs one evaluation per stream, not one per write. */
export const LIVE_FLAGS_DEBOUNCE_MS = 50;

export class TooManySubscriptionsError extends AppError {
  declare readonly code: 'TOO_MANY_SUBSCRIPTIONS';
  constructor(readonly limit: number) {
    super('TOO_MANY_SUBSCRIPTIONS', `This server has no room for another subscription (at most ${limit}): retry later or on another server.`);
  }
}

/** One step of a stream: the flags, or why they could not be evaluated this time (the stream goes on). */
export type LiveFlagsEvent = EvaluatedFlag[] | Error;

export interface LiveFlagsService {
  /**
   * The flags now, then after each change of the environment's config that changes them, until
   * the iterator is returned (the client went away) or the process drains. Throws
   * TooManySubscriptionsError when the process has no room, and what `flags` throws for bad input.
   */
  watch(environment: EnvironmentRef, request: Pick<EvaluationRequest, 'identifier' | 'traits'>): Promise<AsyncIterableIterator<LiveFlagsEvent>>;
  /** Streams open now. */
  readonly size: number;
  /** Ends every stream and refuses new ones (drain). */
  closeAll(): void;
}

interface Watcher {
  changed(): void;
  close(): void;
}

export function createLiveFlags(deps: {
  evaluation: EvaluationService;
  configChanges: ConfigChanges;
  maxSubscriptions: number;
  debounceMs?: number;
  /**
   * An open stream re-evaluates at least this often without a notice (0: never), so a notice
   * lost with a dropped listener connection delays it no more than it delays the config cache.
   */
  refreshMs?: number;
}): LiveFlagsService {
  const { evaluation, configChanges, maxSubscriptions, debounceMs = LIVE_FLAGS_DEBOUNCE_MS, refreshMs = 0 } = deps;
  const byEnvironment = new Map<number, Set<Watcher>>();
  let size = 0;
  let closed = false;

  configChanges.subscribe((environmentIds) => {
    const affected = environmentIds ? environmentIds.map((id) => byEnvironment.get(id)) : [...byEnvironment.values()];
    for (const watchers of affected) if (watchers) for (const watcher of watchers) watcher.changed();
  });

  function register(environmentId: number, watcher: Watcher): () => void {
    let watchers = byEnvironment.get(environmentId);
    if (!watchers) byEnvironment.set(environmentId, (watchers = new Set()));
    watchers.add(watcher);
    size++;
    return () => {
      if (!watchers.delete(watcher)) return;
      size--;
      if (watchers.size === 0) byEnvironment.delete(environmentId);
    };
  }

  return {
    get size() {
      return size;
    },

    async watch(environment, request) {
      if (closed || size >= maxSubscriptions) throw new TooManySubscriptionsError(maxSubscriptions);
      // Bad input fails the subscription itself, before it takes a place.
      const first = await evaluation.evaluate(environment, { identifier: request.identifier, traits: request.traits });
      // Checked again: other subscriptions may have taken the room while this one evaluated.
      if (closed || size >= maxSubscriptions) throw new TooManySubscriptionsError(maxSubscriptions);
      // Traits were merged into the identity by the first evaluation: later ones read the stored traits.
      const later: EvaluationRequest = { identifier: request.identifier };

      let sent: string | undefined;
      let firstPending = true;
      let changed = false;
      let done = false;
      /** Resolves a wait for the next change notice. */
      let onChange: (() => void) | undefined;
      /** Cuts a debounce pause short when the stream ends. */
      let onClose: (() => void) | undefined;
      const unregister = register(environment.environmentId, {
        changed() {
          changed = true;
          const resolve = onChange;
          onChange = undefined;
          resolve?.();
        },
        close() {
          finish();
        },
      });
      const finish = () => {
        done = true;
        unregister();
        const resolvers = [onChange, onClose];
        onChange = onClose = undefined;
        for (const resolve of resolvers) resolve?.();
      };
      const pause = (ms: number) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            onClose = undefined;
            resolve();
          }, ms);
          onClose = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      const untilChanged = () =>
        new Promise<void>((resolve) => {
          const timer =
            refreshMs > 0
              ? setTimeout(() => {
                  onChange = undefined;
                  changed = true;
                  resolve();
                }, refreshMs)
              : undefined;
          onChange = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      const end = (): IteratorResult<LiveFlagsEvent> => ({ done: true, value: undefined });

      const iterator: AsyncIterableIterator<LiveFlagsEvent> = {
        [Symbol.asyncIterator]() {
          return iterator;
        },
        async next() {
          if (done) return end();
          if (firstPending) {
            firstPending = false;
            sent = JSON.stringify(first);
            return { done: false, value: first };
          }
          for (;;) {
            if (!changed) await untilChanged();
            if (done) return end();
            // Debounce: notices arriving during the pause are answered by this evaluation.
            await pause(debounceMs);
            if (done) return end();
            changed = false;
            let flags: EvaluatedFlag[];
            try {
              flags = await evaluation.evaluate(environment, later);
            } catch (error) {
              return { done: false, value: error instanceof Error ? error : new Error(String(error)) };
            }
            if (done) return end();
            const text = JSON.stringify(flags);
            // A change elsewhere in the environment that leaves this identity's flags as they were says nothing.
            if (text === sent) continue;
            sent = text;
            return { done: false, value: flags };
          }
        },
        async return() {
          finish();
          return end();
        },
      };
      return iterator;
    },

    closeAll() {
      closed = true;
      for (const watchers of [...byEnvironment.values()]) for (const watcher of [...watchers]) watcher.close();
    },
  };
}
