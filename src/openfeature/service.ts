// OFREP evaluation (SPEC.md section 10) on the one evaluation path of `flags`, and the
// change-notification streams of this process.
import { hash } from 'node:crypto';
import type { EnvironmentRef } from '../auth/environment-keys.js';
import type { ConfigChanges } from '../db/config-changes.js';
import type { ContextEvaluation, EvaluationService } from '../evaluation/service.js';
import {
  contextFingerprint,
  describeFlag,
  flagNotFound,
  type OfrepContext,
  type OfrepMetadata,
  type OfrepResult,
} from './normalise.js';
import { OfrepError } from './errors.js';

/**
 * Flat metadata a flag result carries beyond `segment` (experiments add `experimentId` and
 * `experimentIteration` here). Called for every flag evaluated: it must be synchronous and cheap.
 */
export type FlagMetadataSource = (environment: EnvironmentRef, featureName: string, variant: string | null) => OfrepMetadata | undefined;

export interface BulkEvaluation {
  /**
   * Over the config evaluated, the identity's overrides and the context: a new context never
   * matches an old ETag. Known before any flag is evaluated.
   */
  etag: string;
  /** Evaluates the flags: a revalidation that matches the ETag never calls it. A method: call it on the evaluation. */
  flags(): OfrepResult[];
}

/** A bulk evaluation (a class: a revalidation makes no closure for the `flags` it never calls). */
class Bulk implements BulkEvaluation {
  readonly etag: string;
  constructor(
    private readonly evaluation: ContextEvaluation,
    private readonly environment: EnvironmentRef,
    private readonly context: OfrepContext,
    private readonly metadata: FlagMetadataSource | undefined,
  ) {
    // The config's content version: the same in every process and after a reload, so a client
    // moving between processes, or revalidating after a TTL reload, still gets its 304.
    this.etag = `"${hash('sha256', `${evaluation.configVersion ?? 'none'}\n${evaluation.overrides}\n${contextFingerprint(context)}`, 'base64url')}"`;
  }

  flags(): OfrepResult[] {
    const { environment, metadata } = this;
    const hasIdentity = this.context.identifier !== undefined;
    return this.evaluation.flags().map((evaluated) => describeFlag(evaluated, hasIdentity, metadata?.(environment, evaluated.flag.name, evaluated.flag.variant)));
  }
}

/** One open event stream: `notify` writes a refetch event, `close` ends it. */
export interface StreamListener {
  notify(): void;
  close(): void;
}

export interface OpenFeatureService {
  evaluateFlag(environment: EnvironmentRef, key: string, context: OfrepContext): Promise<OfrepResult>;
  /** At once when the config (and the identity's overrides) are at hand, as a revalidation's usually are. */
  evaluateFlags(environment: EnvironmentRef, context: OfrepContext): BulkEvaluation | Promise<BulkEvaluation>;
  /** Registers a stream of `environmentId`; undefined when this process has no room (or is draining). */
  openStream(environmentId: number, listener: StreamListener): (() => void) | undefined;
  /** Ends every stream and refuses new ones (drain). */
  closeStreams(): void;
}

export interface OpenFeatureDeps {
  evaluation: EvaluationService;
  configChanges: ConfigChanges;
  maxStreams: number;
  metadata?: FlagMetadataSource;
}

export function createOpenFeatureService({ evaluation, configChanges, maxStreams, metadata }: OpenFeatureDeps): OpenFeatureService {
  const streams = new Map<number, Set<StreamListener>>();
  let streamCount = 0;
  let closed = false;
  configChanges.subscribe((environmentIds) => {
    const affected = environmentIds ? environmentIds.map((id) => streams.get(id)) : [...streams.values()];
    for (const listeners of affected) if (listeners) for (const listener of listeners) listener.notify();
  });

  return {
    async evaluateFlag(environment, key, context) {
      const [evaluated] = (await evaluation.evaluateContext(environment, context, key)).flags();
      if (!evaluated) throw flagNotFound(key);
      if (evaluated.multivariate && context.identifier === undefined) {
        throw new OfrepError(400, 'TARGETING_KEY_MISSING', `Flag '${key}' has variants: send a targetingKey in the context.`);
      }
      return describeFlag(evaluated, context.identifier !== undefined, metadata?.(environment, key, evaluated.flag.variant));
    },

    evaluateFlags(environment, context) {
      const evaluated = evaluation.evaluateContext(environment, context);
      return evaluated instanceof Promise
        ? evaluated.then((ready) => new Bulk(ready, environment, context, metadata))
        : new Bulk(evaluated, environment, context, metadata);
    },

    openStream(environmentId, listener) {
      if (closed || streamCount >= maxStreams) return undefined;
      let listeners = streams.get(environmentId);
      if (!listeners) streams.set(environmentId, (listeners = new Set()));
      listeners.add(listener);
      streamCount++;
      return () => {
        if (!listeners.delete(listener)) return;
        streamCount--;
        if (listeners.size === 0) streams.delete(environmentId);
      };
    },

    closeStreams() {
      closed = true;
      for (const listeners of [...streams.values()]) for (const listener of [...listeners]) listener.close();
    },
  };
}
