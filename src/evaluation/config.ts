// An environment's evaluation config: everything `flags` needs, read from the database in a
// fixed number of statements (four, whatever the number of features, segments or overrides)
// and compiled once for the engine (SPEC.md sections 3 and 8).
import { hash } from 'node:crypto';
import {
  type FeatureContext,
  type FeatureValue,
  type PreparedEnvironment,
  prepareEnvironment,
  type SegmentContext,
  type SegmentRule,
} from '../engine/index.js';
import { EFFECTIVE_WEIGHT_SQL } from '../features/effective-weight.js';
import type { PrismaClient } from '../generated/prisma/client.js';

/** One live feature of the environment, with what exposures need to name its variants. */
export interface ConfiguredFeature {
  name: string;
  featureId: number;
  /** `FeatureState.id`: the hashing key of multivariate splits. */
  stateId: number;
  /** Has at least one live option. */
  multivariate: boolean;
  /** Live options by variant key (options without a key are not listed). */
  optionIdByVariantKey: ReadonlyMap<string, number>;
  /** The feature state's value (what an override with a null value serves). */
  value: unknown;
  /** The experiment running on the feature here, with its iteration (Flag.experiment). */
  experiment: RunningExperiment | null;
  /**
   * A segment or an identity overrides the feature here: an identity's flag may then depend on
   * its stored traits or overrides; otherwise its identifier alone decides.
   */
  overridden: boolean;
}

export interface RunningExperiment {
  id: number;
  name: string;
  iteration: number;
}

/** Put on a segment override's feature context: the engine hands it back on the flag it decided. */
export interface OverrideMetadata {
  segment: string;
}

/** Put on every segment context: matched segments come back with their ids. */
export interface SegmentMetadata {
  id: number;
}

/** Statements issued by one load, whatever the environment holds. */
export const STATEMENTS_PER_LOAD = 5;

export interface EvaluationConfig {
  environmentId: number;
  /**
   * A digest of everything loaded: the same for the same config whenever and wherever it is
   * loaded (a reload after the TTL, another server process), another after any change.
   */
  version: string;
  /** The engine's compiled form of the environment's features. */
  engine: PreparedEnvironment;
  /** Live features ordered by name (the order `flags` answers in). */
  features: readonly ConfiguredFeature[];
  featuresByName: ReadonlyMap<string, ConfiguredFeature>;
  featuresById: ReadonlyMap<number, ConfiguredFeature>;
}

interface StateRow {
  environmentKey: string;
  environmentName: string;
  stateId: number | null;
  featureId: number | null;
  name: string | null;
  enabled: boolean | null;
  value: unknown;
  /** An identity of this environment has an override of the feature. */
  identityOverrides: boolean;
}

interface OptionRow {
  optionId: number;
  featureId: number;
  key: string | null;
  value: unknown;
  weight: number;
  priority: number;
}

interface SegmentRow {
  segmentId: number;
  name: string;
  rules: unknown;
}

interface OverrideRow {
  overrideId: number;
  segmentId: number;
  featureId: number;
  enabled: boolean;
  value: unknown;
  priority: number;
  /** Option id (text) -> weight; null when the override has no allocations of its own. */
  allocations: Record<string, number> | null;
}

/**
 * Reads the environment's live (non-archived) features with their states, and their live
 * options with the environment's effective weights. Undefined when the environment does not exist.
 */
export async function loadEvaluationConfig(prisma: PrismaClient, environmentId: number): Promise<EvaluationConfig | undefined> {
  const [states, options, segments, overrides, experiments] = await Promise.all([
    // The environment row comes back even when it has no features (LEFT JOIN).
    // DB NULL in FeatureState.value means "inherit initialValue"; a JSON null is a value.
    prisma.$queryRaw<StateRow[]>`
      SELECT e."key" AS "environmentKey", e."name" AS "environmentName",
             fs."id" AS "stateId", f."id" AS "featureId", f."name", fs."enabled",
             CASE WHEN fs."id" IS NULL THEN NULL WHEN fs."value" IS NULL THEN f."initialValue" ELSE fs."value" END AS "value",
             EXISTS (SELECT FROM "IdentityOverride" io JOIN "Identity" i ON i."id" = io."identityId"
                     WHERE io."featureId" = f."id" AND i."environmentId" = e."id") AS "identityOverrides"
      FROM "Environment" e
      LEFT JOIN ("FeatureState" fs JOIN "Feature" f ON f."id" = fs."featureId" AND f."archivedAt" IS NULL)
        ON fs."environmentId" = e."id"
      WHERE e."id" = ${environmentId}`,
    prisma.$queryRaw<OptionRow[]>`
      SELECT o."id" AS "optionId", o."featureId", o."key", o."value",
             ${EFFECTIVE_WEIGHT_SQL} AS "weight", o."priority"
      FROM "FeatureState" fs
      JOIN "Feature" f ON f."id" = fs."featureId" AND f."archivedAt" IS NULL
      JOIN "MultivariateOption" o ON o."featureId" = fs."featureId" AND o."archivedAt" IS NULL
      LEFT JOIN "VariantAllocation" a ON a."featureStateId" = fs."id" AND a."optionId" = o."id"
      WHERE fs."environmentId" = ${environmentId}
      ORDER BY o."featureId", o."priority", o."id"`,
    // Every segment of the project, as Flagsmith's environment document has them: matched
    // segments are listed even when they override nothing here.
    prisma.$queryRaw<SegmentRow[]>`
      SELECT s."id" AS "segmentId", s."name", s."rules"
      FROM "Segment" s JOIN "Environment" e ON e."projectId" = s."projectId"
      WHERE e."id" = ${environmentId}
      ORDER BY s."id"`,
    // SQL NULL in SegmentOverride.value means "the feature state's value".
    prisma.$queryRaw<OverrideRow[]>`
      SELECT so."id" AS "overrideId", so."segmentId", so."featureId", so."enabled", so."priority",
             CASE WHEN so."value" IS NOT NULL THEN so."value" WHEN fs."value" IS NOT NULL THEN fs."value" ELSE f."initialValue" END AS "value",
             (SELECT jsonb_object_agg(a."optionId"::text, a."weight") FROM "SegmentOverrideAllocation" a
               WHERE a."segmentOverrideId" = so."id") AS "allocations"
      FROM "SegmentOverride" so
      JOIN "Feature" f ON f."id" = so."featureId" AND f."archivedAt" IS NULL
      JOIN "FeatureState" fs ON fs."featureId" = so."featureId" AND fs."environmentId" = so."environmentId"
      WHERE so."environmentId" = ${environmentId}
      ORDER BY so."segmentId", so."featureId"`,
    prisma.$queryRaw<(RunningExperiment & { featureId: number })[]>`
      SELECT x."featureId", x."id", x."name", max(i."number") AS "iteration"
      FROM "Experiment" x JOIN "ExperimentIteration" i ON i."experimentId" = x."id"
      WHERE x."environmentId" = ${environmentId} AND x."status" = 'RUNNING'
      GROUP BY x."id"`,
  ]);
  if (states.length === 0) return undefined;
  // The other statements are ordered; these two are sorted here so the digest is stable.
  states.sort((a, b) => (a.stateId ?? 0) - (b.stateId ?? 0));
  experiments.sort((a, b) => a.id - b.id);
  // Which features identities override is not part of the version: each identity's own
  // overrides are part of its answers (ContextEvaluation.overrides), others' change nothing.
  const digested = states.map(({ identityOverrides: _, ...state }) => state);
  return { ...buildEvaluationConfig(environmentId, states, options, segments, overrides, experiments), version: digestOf([digested, options, segments, overrides, experiments]) };
}

/**
 * Whether two loads of one environment's config are interchangeable: the same version (everything
 * loaded but which features identities override) and the same features overridden. A reload that
 * changed nothing then keeps the config object, and with it every evaluation remembered for it.
 */
export function sameEvaluationConfig(a: EvaluationConfig, b: EvaluationConfig): boolean {
  if (a.environmentId !== b.environmentId || a.version !== b.version || a.features.length !== b.features.length) return false;
  for (let index = 0; index < a.features.length; index++) {
    if (a.features[index].overridden !== b.features[index].overridden) return false;
  }
  return true;
}

/** sha256 of the rows as JSON (jsonb values come back with their keys in a fixed order). */
function digestOf(rows: unknown): string {
  return hash('sha256', JSON.stringify(rows, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)), 'base64url');
}

function buildEvaluationConfig(
  environmentId: number,
  states: StateRow[],
  options: OptionRow[],
  segmentRows: SegmentRow[],
  overrideRows: OverrideRow[],
  experiments: (RunningExperiment & { featureId: number })[] = [],
): Omit<EvaluationConfig, 'version'> {
  const experimentByFeature = new Map(experiments.map(({ featureId, id, name, iteration }) => [featureId, { id, name, iteration: Number(iteration) }]));
  const { environmentKey, environmentName } = states[0];
  const optionsByFeature = new Map<number, OptionRow[]>();
  for (const option of options) {
    const list = optionsByFeature.get(option.featureId);
    if (list) list.push(option);
    else optionsByFeature.set(option.featureId, [option]);
  }

  const segmentOverridden = new Set(overrideRows.map((override) => override.featureId));
  const featureContexts: Record<string, FeatureContext> = {};
  const features: ConfiguredFeature[] = [];
  for (const row of states) {
    if (row.stateId === null || row.featureId === null || row.name === null) continue;
    const featureOptions = optionsByFeature.get(row.featureId) ?? [];
    const variants: FeatureValue[] = featureOptions.map((option) => ({
      value: option.value,
      weight: Number(option.weight),
      priority: option.priority,
      key: option.key,
    }));
    featureContexts[row.name] = {
      key: String(row.stateId),
      name: row.name,
      enabled: row.enabled === true,
      value: row.value ?? null,
      variants: variants.length ? variants : null,
    };
    const optionIdByVariantKey = new Map<string, number>();
    for (const option of featureOptions) if (option.key !== null) optionIdByVariantKey.set(option.key, option.optionId);
    features.push({
      name: row.name,
      featureId: row.featureId,
      stateId: row.stateId,
      multivariate: featureOptions.length > 0,
      optionIdByVariantKey,
      value: row.value ?? null,
      experiment: experimentByFeature.get(row.featureId) ?? null,
      overridden: row.identityOverrides || segmentOverridden.has(row.featureId),
    });
  }
  // Code-point order, the same on every server whatever its locale.
  features.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const featuresById = new Map(features.map((feature) => [feature.featureId, feature]));
  const overridesBySegment = new Map<number, OverrideRow[]>();
  for (const override of overrideRows) {
    const list = overridesBySegment.get(override.segmentId);
    if (list) list.push(override);
    else overridesBySegment.set(override.segmentId, [override]);
  }
  // A Map keeps segments in id order (a plain object would too, for integer-like keys).
  const segmentContexts = new Map<string, SegmentContext<SegmentMetadata, OverrideMetadata>>();
  for (const segment of segmentRows) {
    const segmentOverrides: FeatureContext<OverrideMetadata>[] = [];
    for (const override of overridesBySegment.get(segment.segmentId) ?? []) {
      const feature = featuresById.get(override.featureId);
      if (!feature) continue;
      segmentOverrides.push({
        // The feature state's key: an identity keeps its bucket whether a segment decides or not.
        key: String(feature.stateId),
        name: feature.name,
        enabled: override.enabled,
        value: override.value ?? null,
        priority: override.priority,
        variants: overrideVariants(override, optionsByFeature.get(feature.featureId) ?? []),
        metadata: { segment: segment.name },
      });
    }
    segmentContexts.set(String(segment.segmentId), {
      key: String(segment.segmentId),
      name: segment.name,
      rules: segment.rules as SegmentRule[],
      overrides: segmentOverrides,
      metadata: { id: segment.segmentId },
    });
  }

  return {
    environmentId,
    engine: prepareEnvironment({
      environment: { key: environmentKey, name: environmentName },
      features: featureContexts,
      segments: segmentContexts as Map<string, SegmentContext<unknown, unknown>>,
    }),
    features,
    featuresByName: new Map(features.map((feature) => [feature.name, feature])),
    featuresById,
  };
}

/**
 * An override with allocations splits by its own weights over the feature's live options
 * (options it does not list get 0); without allocations it serves its value, no split.
 */
function overrideVariants(override: OverrideRow, options: OptionRow[]): FeatureValue[] | null {
  if (override.allocations === null) return null;
  const weights = override.allocations;
  return options.map((option) => ({
    value: option.value,
    weight: Number(weights[String(option.optionId)] ?? 0),
    priority: option.priority,
    key: option.key,
  }));
}
