// Request ids: a sane `X-Request-Id` sent by the client, else one made here.
import { randomUUID } from 'node:crypto';

const SANE_REQUEST_ID = /^[\w.-]{1,100}$/;
const COUNTER_DIGITS = 12;
const COUNTER_LIMIT = 16 ** COUNTER_DIGITS;

/**
 * Made ids look like UUIDs (36 characters, lower-case hex and dashes): the first 24 characters
 * of a random UUID drawn once per process (74 random bits: no two processes or restarts share
 * it), then a counter of the process's requests in the last 12 hex digits. Far cheaper than a
 * random UUID per request, and as unique.
 */
let prefix = randomUUID().slice(0, 36 - COUNTER_DIGITS);
let counter = 0;

export function newRequestId(): string {
  const id = prefix + counter.toString(16).padStart(COUNTER_DIGITS, '0');
  if (++counter === COUNTER_LIMIT) {
    prefix = randomUUID().slice(0, 36 - COUNTER_DIGITS);
    counter = 0;
  }
  return id;
}

/** The client's `X-Request-Id` when it is sane (1-100 of `[A-Za-z0-9_.-]`), else a new id. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : newRequestId();
}
