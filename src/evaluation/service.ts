// Server-side evaluation (SPEC.md section 3): the caller's environment config from the
// cache, the identity from the identity store, the flags from the engine.
import type { EnvironmentRef } from '../auth/environment-keys.js';
import type { FlagResult, IdentityContext } from '../engine/index.js';
import type { EvaluationConfigCache } from './cache.js';
import type { ConfiguredFeature, EvaluationConfig, RunningExperiment, SegmentMetadata } from './config.js';
import type { IdentityStore, KnownIdentity, StoredIdentityOverride } from './identities.js';
import { checkIdentifier, checkTraits, invalidInput, type Traits } from './inputs.js';
import { EvaluationMemo } from './memo.js';

/** A flag, with the experiment running on its feature (experiments). */
export type EvaluatedFlag = FlagResult & { experiment?: RunningExperiment };

export interface EvaluationRequest {
  identifier?: string | null;
  traits?: unknown;
  recordExposures?: boolean | null;
}

/** A multivariate flag served with a non-null variant by `flags(recordExposures: true)`. */
export interface ServedVariant {
  featureId: number;
  optionId: number | null;
  variantKey: string;
}

/** Where `flags(recordExposures: true)` hands what it served (the exposure log). */
export interface ServedVariantSink {
  recordServedVariants(environment: EnvironmentRef, identity: { id: number; identifier: string }, served: ServedVariant[]): Promise<void>;
}

/** Evaluation as other domains need it. */
export interface Assignments {
  /**
   * The variant key SPEC section 3 assigns this identity for each feature now, from the same
   * cached config as `flags`: an option key, `control`, or null (no variants, or an unkeyed
   * option won). Features that are not live in the environment are absent from the map.
   */
  assignedVariantKeys(environmentId: number, identifier: string, featureIds: number[]): Promise<Map<number, string | null>>;
}

/** A flag evaluated for a context, with what callers outside GraphQL need to describe it. */
export interface ContextFlag {
  flag: FlagResult;
  /** The feature has live variants (its result depends on the identifier). */
  multivariate: boolean;
  /** The experiment running on the feature, if any. */
  experiment?: RunningExperiment;
}

export interface ContextEvaluation {
  /** The version of the config evaluated (EvaluationConfig.version), undefined when none. */
  configVersion: string | undefined;
  /** The identity's overrides that apply, as canonical text ('' when none): the rest of what the flags depend on. */
  overrides: string;
  /**
   * Evaluates the flags (nothing is evaluated until called: a revalidation may not need them).
   * A method: call it on the evaluation.
   */
  flags(): ContextFlag[];
}

export interface EvaluationService {
  /** Every live flag of the caller's environment, by name; or only `name`'s. */
  evaluate(environment: EnvironmentRef, request: EvaluationRequest, name?: string): Promise<EvaluatedFlag[]>;
  /**
   * Like `evaluate`, from the same cached config and with the identity's own overrides, but the
   * traits are this evaluation's only: nothing is stored (no identity is created) and stored
   * traits are not read (OpenFeature sends the whole context).
   */
  evaluateContext(
    environment: EnvironmentRef,
    context: { identifier?: string; traits?: Traits },
    name?: string,
  ): ContextEvaluation | Promise<ContextEvaluation>;
  /** The ids of the segments an identity's stored traits match now, as `flags` evaluates them, in id order. */
  matchedSegmentIds(environmentId: number, identifier: string): Promise<number[]>;
}

interface EvaluationDeps {
  configs: EvaluationConfigCache;
  identities: IdentityStore;
}

export function createAssignments({ configs, identities }: EvaluationDeps): Assignments {
  return {
    async assignedVariantKeys(environmentId, identifier, featureIds) {
      const assigned = new Map<number, string | null>();
      const config = await configs.get(environmentId);
      if (!config) return assigned;
      // Stored traits and overrides can change only an overridden feature's answer: for the
      // others the identifier decides, and nothing is read.
      const stored = featureIds.some((id) => config.featuresById.get(id)?.overridden) ? await identities.stored(environmentId, identifier) : undefined;
      const evaluation = config.engine.forIdentity(stored ? identityContext(stored) : { identifier });
      for (const featureId of featureIds) {
        const feature = config.featuresById.get(featureId);
        if (!feature) continue;
        const flag = evaluation.flag(feature.name);
        assigned.set(featureId, flag ? withIdentityOverride(flag, feature, stored?.overrides).variant : null);
      }
      return assigned;
    },
  };
}

export function createEvaluation({
  configs,
  identities,
  servedVariants,
}: EvaluationDeps & { servedVariants: ServedVariantSink }): EvaluationService {
  const memo = new EvaluationMemo<EvaluatedFlag, ServedVariant>();
  return {
    async matchedSegmentIds(environmentId, identifier) {
      const [config, stored] = await Promise.all([configs.get(environmentId), identities.stored(environmentId, identifier)]);
      if (!config) return [];
      const { segments } = config.engine.forIdentity(stored ? identityContext(stored) : { identifier });
      return segments.map((segment) => (segment.metadata as unknown as SegmentMetadata).id);
    },
    async evaluate(environment, request, name) {
      const identifier = request.identifier === null || request.identifier === undefined ? undefined : checkIdentifier(request.identifier);
      const traits = checkTraits(request.traits);
      if (identifier === undefined && traits !== undefined && Object.keys(traits).length > 0) {
        throw invalidInput('traits belong to an identity: send an identifier with them.');
      }
      const configOrPromise = configs.get(environment.environmentId);
      const identityOrPromise = identifier === undefined ? undefined : identities.resolve(environment.environmentId, identifier, traits);
      // Usually both are at hand (no await); otherwise wait for both, so neither rejection goes unheard.
      const [config, identity] =
        configOrPromise instanceof Promise || identityOrPromise instanceof Promise
          ? await Promise.all([configOrPromise, identityOrPromise])
          : [configOrPromise, identityOrPromise];
      if (!config) return [];

      let evaluated = name === undefined ? memo.get(config, identity, identity && memoKey(environment.environmentId, identity.identifier)) : undefined;
      if (!evaluated) {
        const flags: EvaluatedFlag[] = [];
        const served: ServedVariant[] = [];
        evaluateFeatures(config, identity ? identityContext(identity) : null, identity?.overrides, name, (feature, index, flag) => {
          const candidate = { flag: feature.experiment ? { ...flag, experiment: feature.experiment } : flag, served: servedVariant(feature, flag) };
          // The full list is remembered: its flags are shared with other identities' equal ones.
          const shared = name === undefined ? memo.share(config, index, candidate) : candidate;
          flags.push(shared.flag);
          if (shared.served) served.push(shared.served);
        });
        evaluated = { flags, served };
        if (name === undefined) memo.set(config, identity, identity && memoKey(environment.environmentId, identity.identifier), evaluated);
      }
      if (request.recordExposures && identity && evaluated.served.length > 0) {
        await servedVariants.recordServedVariants(environment, { id: identity.id, identifier: identity.identifier }, evaluated.served);
      }
      return evaluated.flags;
    },

    evaluateContext(environment, context, name) {
      const identifier = context.identifier === undefined ? undefined : checkIdentifier(context.identifier);
      const traits = checkTraits(context.traits);
      const configOrPromise = configs.get(environment.environmentId);
      // Read (once, then remembered) without creating the identity: OpenFeature stores nothing.
      const overridesOrPromise = identifier === undefined ? undefined : identities.overrides(environment.environmentId, identifier);
      // Usually both are at hand: answered at once. Otherwise wait for both, so neither rejection goes unheard.
      if (configOrPromise instanceof Promise || overridesOrPromise instanceof Promise) {
        return Promise.all([configOrPromise, overridesOrPromise]).then(([config, overrides]) => contextEvaluation(config, identifier, traits, overrides, name));
      }
      return contextEvaluation(configOrPromise, identifier, traits, overridesOrPromise, name);
    },
  };
}

function contextEvaluation(
  config: EvaluationConfig | undefined,
  identifier: string | undefined,
  traits: Traits | undefined,
  overrides: ReadonlyMap<number, StoredIdentityOverride> | undefined,
  name: string | undefined,
): ContextEvaluation {
  if (!config) return NO_CONFIG;
  return new ConfigContextEvaluation(config, identifier, traits, overrides, name);
}

const NO_CONFIG: ContextEvaluation = { configVersion: undefined, overrides: '', flags: () => [] };

/** A class: an evaluation whose flags are never asked for (a revalidation) makes no closure. */
class ConfigContextEvaluation implements ContextEvaluation {
  readonly configVersion: string;
  readonly overrides: string;
  constructor(
    private readonly config: EvaluationConfig,
    private readonly identifier: string | undefined,
    private readonly traits: Traits | undefined,
    private readonly identityOverrides: ReadonlyMap<number, StoredIdentityOverride> | undefined,
    private readonly name: string | undefined,
  ) {
    this.configVersion = config.version;
    this.overrides = overridesText(identityOverrides);
  }

  flags(): ContextFlag[] {
    const { identifier } = this;
    const flags: ContextFlag[] = [];
    evaluateFeatures(this.config, identifier === undefined ? null : { identifier, traits: this.traits ?? {} }, this.identityOverrides, this.name, (feature, _index, flag) => {
      flags.push({ flag, multivariate: feature.multivariate, experiment: feature.experiment ?? undefined });
    });
    return flags;
  }
}

/**
 * The one evaluation of a config's features (all of them, or only `name`'s) for an identity
 * context and its overrides: `flags`, `flag`, live flags and OFREP all evaluate through here.
 */
function evaluateFeatures(
  config: EvaluationConfig,
  context: IdentityContext | null,
  overrides: ReadonlyMap<number, StoredIdentityOverride> | undefined,
  name: string | undefined,
  each: (feature: ConfiguredFeature, index: number, flag: FlagResult) => void,
): void {
  const evaluation = config.engine.forIdentity(context);
  if (name !== undefined) {
    const feature = config.featuresByName.get(name);
    const engineFlag = feature && evaluation.flag(feature.name);
    if (feature && engineFlag) each(feature, -1, withIdentityOverride(engineFlag, feature, overrides));
    return;
  }
  const { features } = config;
  for (let index = 0; index < features.length; index++) {
    const feature = features[index];
    const engineFlag = evaluation.flag(feature.name);
    if (engineFlag) each(feature, index, withIdentityOverride(engineFlag, feature, overrides));
  }
}

/** What `flags(recordExposures: true)` records for a flag: multivariate ones served with a variant key. */
function servedVariant(feature: ConfiguredFeature, flag: FlagResult): ServedVariant | undefined {
  if (!feature.multivariate || flag.variant === null) return undefined;
  return { featureId: feature.featureId, optionId: feature.optionIdByVariantKey.get(flag.variant) ?? null, variantKey: flag.variant };
}

function memoKey(environmentId: number, identifier: string): string {
  return `${environmentId}:${identifier}`;
}

export const REASON_IDENTITY_OVERRIDE = 'IDENTITY_OVERRIDE';

/** The identity's own override, above every segment (no split: it serves one value). */
function withIdentityOverride(flag: FlagResult, feature: ConfiguredFeature, overrides: ReadonlyMap<number, StoredIdentityOverride> | undefined): FlagResult {
  const override = overrides?.get(feature.featureId);
  if (!override) return flag;
  const value = 'value' in override ? override.value : feature.value;
  return { name: flag.name, enabled: override.enabled, value, reason: REASON_IDENTITY_OVERRIDE, variant: null };
}

/** Overrides as canonical text (feature id order), '' when there are none. */
function overridesText(overrides: ReadonlyMap<number, StoredIdentityOverride> | undefined): string {
  if (!overrides || overrides.size === 0) return '';
  return JSON.stringify([...overrides].sort(([a], [b]) => a - b));
}

function identityContext(identity: KnownIdentity): IdentityContext {
  return { identifier: identity.identifier, traits: identity.traits as Traits };
}
