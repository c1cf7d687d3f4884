// GraphQL subscriptions over SSE in tests, with the stock `graphql-sse` client in "distinct
// connections mode" (what Yoga serves), as a frontend would subscribe.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type ExecutionResult } from 'graphql-sse';

export interface Subscription<R> {
  /** The next event the server sent (waits for it); rejects once the stream failed or ended without one. */
  next(): Promise<ExecutionResult<R>>;
  /** Every event received so far. */
  readonly events: ExecutionResult<R>[];
  /** Resolves when the server ends the stream ("complete"), rejects when it fails. */
  readonly ended: Promise<void>;
  /** Ends it from the client's side (as a closed browser tab would). */
  close(): void;
}

export function subscribe<R, V>(
  url: string,
  document: TypedDocumentNode<R, V> | { query?: string; extensions?: Record<string, unknown> },
  variables: V,
  headers: Record<string, string>,
): Subscription<R> {
  const client = createClient({ url: `${url}/graphql`, headers, singleConnection: false, retryAttempts: 0 });
  const events: ExecutionResult<R>[] = [];
  const waiting: { resolve(value: ExecutionResult<R>): void; reject(error: unknown): void }[] = [];
  let read = 0;
  let finished: { error?: unknown } | undefined;
  let resolveEnded!: () => void;
  let rejectEnded!: (error: unknown) => void;
  const ended = new Promise<void>((resolve, reject) => ((resolveEnded = resolve), (rejectEnded = reject)));
  ended.catch(() => {});
  const settleWaiting = () => {
    while (waiting.length && read < events.length) waiting.shift()!.resolve(events[read++]);
    if (finished) for (const waiter of waiting.splice(0)) waiter.reject(finished.error ?? new Error('the subscription ended'));
  };
  const payload =
    'kind' in document
      ? { query: print(document as TypedDocumentNode<R, V>), variables: variables as Record<string, unknown> }
      : { ...document, query: document.query as string, variables: variables as Record<string, unknown> };
  const dispose = client.subscribe<R>(payload, {
    next(value) {
      events.push(value as ExecutionResult<R>);
      settleWaiting();
    },
    error(error) {
      finished = { error };
      settleWaiting();
      rejectEnded(error);
    },
    complete() {
      finished = {};
      settleWaiting();
      resolveEnded();
    },
  });
  return {
    events,
    ended,
    next() {
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        settleWaiting();
      });
    },
    close() {
      dispose();
      client.dispose();
    },
  };
}
