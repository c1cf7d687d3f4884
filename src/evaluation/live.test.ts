// The rules of live flag streams, without HTTP or a database: an in-process notifier and an
// evaluation that counts its calls (live-flags.test.ts runs the real thing end to end).
import { describe, expect, it } from 'vitest';
import { eventually } from '../../test/helpers/eventually.js';
import type { ConfigChangeListener, ConfigChanges } from '../db/config-changes.js';
import { createLiveFlags, TooManySubscriptionsError } from './live.js';
import type { EvaluatedFlag, EvaluationService } from './service.js';

function setup(options: { maxSubscriptions?: number; refreshMs?: number } = {}) {
  const listeners: ConfigChangeListener[] = [];
  const configChanges: ConfigChanges = {
    listening: Promise.resolve(),
    subscribe: (listener) => void listeners.push(listener),
    announce: async (ids) => listeners.forEach((listener) => listener(ids)),
  };
  let value = 'a';
  let calls = 0;
  const evaluation = {
    evaluate: async (): Promise<EvaluatedFlag[]> => {
      calls++;
      return [{ name: 'banner', enabled: true, value, variant: null, reason: 'DEFAULT' }];
    },
  } as unknown as EvaluationService;
  const live = createLiveFlags({ evaluation, configChanges, maxSubscriptions: options.maxSubscriptions ?? 10, debounceMs: 5, refreshMs: options.refreshMs });
  const notify = (ids: number[] | undefined) => listeners.forEach((listener) => listener(ids));
  return { live, notify, setValue: (next: string) => (value = next), calls: () => calls };
}

const environment = { environmentId: 1, projectId: 1 };
const valueOf = (result: IteratorResult<unknown>) => (result.value as EvaluatedFlag[])[0].value;

describe('live flag streams', () => {
  it('answers at once, then once for a burst of notices', async () => {
    const { live, notify, setValue, calls } = setup();
    const stream = await live.watch(environment, { identifier: 'u' });
    expect(valueOf(await stream.next())).toBe('a');
    setValue('b');
    for (let i = 0; i < 5; i++) notify([1]);
    const next = stream.next();
    notify([1]);
    expect(valueOf(await next)).toBe('b');
    expect(calls()).toBe(2);
    await stream.return!();
  });

  it('sends nothing for a notice that leaves the flags as they were, and hears every environment on an unreadable notice', async () => {
    const { live, notify, setValue, calls } = setup();
    const stream = await live.watch(environment, { identifier: 'u' });
    await stream.next();
    const next = stream.next();
    notify([1]);
    // The evaluation after the first notice finds nothing new: the stream sends nothing and waits
    // (were it to send, `next` would hold 'a', not 'c').
    await eventually(() => calls() === 2, { timeoutMs: 10_000, what: 'the evaluation after the notice' });
    notify([2]);
    setValue('c');
    notify(undefined);
    expect(valueOf(await next)).toBe('c');
    expect(calls()).toBe(3);
    await stream.return!();
  });

  it('re-evaluates without a notice every refreshMs', async () => {
    const { live, setValue } = setup({ refreshMs: 20 });
    const stream = await live.watch(environment, { identifier: 'u' });
    await stream.next();
    setValue('d');
    expect(valueOf(await stream.next())).toBe('d');
    await stream.return!();
  });

  it('holds at most maxSubscriptions, frees a place on return, and ends every stream on closeAll', async () => {
    const { live } = setup({ maxSubscriptions: 1 });
    const first = await live.watch(environment, { identifier: 'u' });
    await expect(live.watch(environment, { identifier: 'v' })).rejects.toBeInstanceOf(TooManySubscriptionsError);
    await first.return!();
    expect(live.size).toBe(0);
    const second = await live.watch(environment, { identifier: 'v' });
    await second.next();
    const waiting = second.next();
    live.closeAll();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(live.size).toBe(0);
    await expect(live.watch(environment, { identifier: 'w' })).rejects.toMatchObject({ code: 'TOO_MANY_SUBSCRIPTIONS' });
  });
});
