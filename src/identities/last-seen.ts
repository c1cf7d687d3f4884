/**
 * An identity's `lastSeenAt` is "about a minute" fresh: each write path (evaluation's identity
 * store, the exposure statement) refreshes it at most this often per identity.
 */
export const IDENTITY_TOUCH_INTERVAL_MS = 60_000;
