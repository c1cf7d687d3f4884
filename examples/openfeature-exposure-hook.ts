// An OpenFeature hook that records flagledger exposures for evaluations made through OFREP:
// after every evaluation that served a variant worth counting, it queues an exposure and sends
// the queue in batches through GraphQL `recordExposures`. Each exposure carries a deterministic
// eventId (a hash of environment, flag, targetingKey, variant and a bucket you choose, e.g. a
// session id or the day), so re-evaluations and retries never count twice.
//
// Works with @openfeature/server-sdk and @openfeature/web-sdk alike:
//
//   const exposures = new ExposureHook({ serverUrl: 'https://flags.example.com', environmentKey: 'env_...' });
//   OpenFeature.addHooks(exposures);
//   ...
//   await exposures.close(); // on shutdown (or `pagehide` in a browser): sends what is queued
import type { BaseHook, EvaluationDetails, FlagValue, HookContext } from '@openfeature/core';

/**
 * Which evaluations are exposures. Until flagledger has experiments: every variant of a
 * multivariate flag served by a split. With experiments, the flag's metadata names the
 * running experiment (`experimentId`): count exactly those.
 */
export function isExposure(details: EvaluationDetails<FlagValue>): boolean {
  if (details.errorCode !== undefined || details.variant === undefined) return false;
  return details.flagMetadata.experimentId !== undefined;
}

export interface ExposureHookOptions {
  /** The flagledger server, e.g. https://flags.example.com */
  serverUrl: string;
  /** The environment's client key (`env_...`), the one the OFREP provider uses. */
  environmentKey: string;
  /** Exposures of one identity to one variant within a bucket count once. Default: the UTC day. */
  bucket?: () => string;
  /** Items per `recordExposures` call (at most 1000). Default 100. */
  batchSize?: number;
  /** Longest an exposure waits in the queue. Default 2000 ms. */
  flushIntervalMs?: number;
  /** Told about batches that could not be sent (they are retried on the next flush). */
  onError?: (error: unknown) => void;
  fetch?: typeof fetch;
}

interface QueuedExposure {
  /** What the eventId is the hash of. */
  eventKey: string;
  feature: string;
  identifier: string;
  variantKey: string;
  exposedAt: string;
}

const RECORD_EXPOSURES = `mutation RecordExposures($input: RecordExposuresInput!) {
  recordExposures(input: $input) {
    __typename
    ... on RecordExposuresPayload { accepted duplicates rejected }
    ... on Error { code message }
  }
}`;

/** Queued beyond this, the oldest exposures are dropped (a server down for long). */
const MAX_QUEUE = 10_000;
/** Event ids already queued in this process, so repeated evaluations are not even sent. */
const MAX_SEEN = 50_000;

export class ExposureHook implements BaseHook<FlagValue, Record<string, unknown>, void, void> {
  private queue: QueuedExposure[] = [];
  private readonly seen = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sending: Promise<void> = Promise.resolve();
  private readonly options: Required<Omit<ExposureHookOptions, 'onError'>> & Pick<ExposureHookOptions, 'onError'>;

  constructor(options: ExposureHookOptions) {
    this.options = {
      bucket: () => new Date().toISOString().slice(0, 10),
      batchSize: 100,
      flushIntervalMs: 2000,
      fetch: globalThis.fetch.bind(globalThis),
      ...options,
    };
  }

  after(hookContext: Readonly<HookContext<FlagValue>>, details: EvaluationDetails<FlagValue>): void {
    const identifier = hookContext.context.targetingKey;
    if (!identifier || !isExposure(details)) return;
    const variantKey = details.variant!;
    const eventKey = JSON.stringify([this.options.environmentKey, details.flagKey, identifier, variantKey, this.options.bucket()]);
    if (this.seen.has(eventKey)) return;
    if (this.seen.size >= MAX_SEEN) this.seen.clear();
    this.seen.add(eventKey);
    this.queue.push({ eventKey, feature: details.flagKey, identifier, variantKey, exposedAt: new Date().toISOString() });
    if (this.queue.length > MAX_QUEUE) this.queue.splice(0, this.queue.length - MAX_QUEUE);
    if (this.queue.length >= this.options.batchSize) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushIntervalMs);
  }

  /** Sends everything queued now. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.sending = this.sending.then(() => this.sendQueued());
    return this.sending;
  }

  /** Sends what is queued; call it on shutdown. */
  close(): Promise<void> {
    return this.flush();
  }

  private async sendQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.options.batchSize);
      try {
        const exposures = await Promise.all(
          batch.map(async ({ eventKey, ...exposure }) => ({ ...exposure, eventId: await sha256Hex(eventKey) })),
        );
        const response = await this.options.fetch(`${this.options.serverUrl}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-environment-key': this.options.environmentKey },
          body: JSON.stringify({ query: RECORD_EXPOSURES, variables: { input: { exposures } } }),
        });
        const body = (await response.json()) as { data?: { recordExposures?: { __typename: string; message?: string } }; errors?: { message: string }[] };
        const payload = body.data?.recordExposures;
        if (!response.ok || !payload || payload.__typename !== 'RecordExposuresPayload') {
          throw new Error(`recordExposures failed: ${payload?.message ?? body.errors?.[0]?.message ?? response.status}`);
        }
      } catch (error) {
        // Kept for the next flush: the eventIds make the retry safe.
        this.options.onError?.(error);
        this.timer ??= setTimeout(() => void this.flush(), this.options.flushIntervalMs);
        return;
      }
      this.queue.splice(0, batch.length);
    }
  }
}

/** Web Crypto: the same in browsers and Node. */
async function sha256Hex(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** The same evaluation of the same identity in the same bucket always gets the same eventId. */
export function exposureEventId(environmentKey: string, flag: string, targetingKey: string, variant: string, bucket: string): Promise<string> {
  return sha256Hex(JSON.stringify([environmentKey, flag, targetingKey, variant, bucket]));
}
