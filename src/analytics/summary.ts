// experimentSummary (SPEC.md section 6): per variant key, exposures and identities by first
// exposure, against the shares the environment's weights expect, with a sample-ratio-mismatch
// test. Counting happens in PostgreSQL (GROUP BY over Exposure and Assignment, see
// countVariants); Node only combines a handful of per-variant rows.
import jStat from 'jstat';
import { VARIANT_CONTROL } from '../engine/index.js';
import { EFFECTIVE_WEIGHT_SQL } from '../features/effective-weight.js';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { resolveAnalyticsScope } from './scope.js';

export interface VariantSummary {
  variantKey: string;
  /** Exposures recorded under this key in the window (on exposedAt). */
  exposures: number;
  /** Identities whose first exposure (Assignment.firstVariantKey) was this key, in the window (on firstExposedAt). */
  identities: number;
  /** identities / totalIdentities (0 when there are none). */
  observedShare: number;
  /** Share of all traffic the environment's weights give this variant now (0 for archived options). */
  expectedShare: number;
  /** A live option's key, or `control`; false for archived options and keys no option has. */
  live: boolean;
}

export interface ExperimentSummary {
  feature: string;
  environmentId: number;
  from: Date | null;
  to: Date | null;
  variants: VariantSummary[];
  totalExposures: number;
  totalIdentities: number;
  conflictedIdentities: number;
  srmChiSquare: number | null;
  srmPValue: number | null;
}

/** Shares are weights / 100; rounding keeps 100 - 33.3 - 33.3 from printing as 0.33399999999999996. */
function share(weight: number): number {
  return Math.round((weight / 100) * 1e10) / 1e10;
}

function timeWindow(column: Prisma.Sql, from: Date | null, to: Date | null): Prisma.Sql {
  const parts: Prisma.Sql[] = [];
  if (from) parts.push(Prisma.sql`AND ${column} >= ${from}`);
  if (to) parts.push(Prisma.sql`AND ${column} < ${to}`);
  return parts.length ? Prisma.join(parts, ' ') : Prisma.empty;
}

/**
 * Chi-square goodness of fit of observed counts to expected shares (renormalised over the
 * variants given, since only they can be observed). Null when there is nothing to test.
 */
export function sampleRatioMismatch(cells: { observed: number; expectedShare: number }[]): { chiSquare: number; pValue: number } | null {
  const tested = cells.filter((c) => c.expectedShare > 0);
  const total = tested.reduce((sum, c) => sum + c.observed, 0);
  const shares = tested.reduce((sum, c) => sum + c.expectedShare, 0);
  if (tested.length < 2 || total === 0) return null;
  let chiSquare = 0;
  for (const cell of tested) {
    const expected = (total * cell.expectedShare) / shares;
    chiSquare += (cell.observed - expected) ** 2 / expected;
  }
  const pValue = 1 - jStat.chisquare.cdf(chiSquare, tested.length - 1);
  return { chiSquare, pValue: Math.min(1, Math.max(0, pValue)) };
}

interface VariantCounts {
  exposureCounts: { key: string; exposures: bigint }[];
  identityCounts: { key: string; identities: bigint; conflicted: bigint }[];
}

/** A statement with JIT off: compiling these plans costs more than running them. */
function withoutJit<T>(prisma: PrismaClient, query: Prisma.PrismaPromise<T>): Promise<T> {
  return prisma.$transaction([prisma.$executeRaw`SET LOCAL jit = off`, query]).then(([, rows]) => rows as T);
}

/**
 * Per-key counts, in SQL: exposures from Exposure (the (environmentId, featureId, exposedAt)
 * index bounds a window; without one, a parallel scan), identities and conflicts from
 * Assignment (one row per identity). The two run side by side on two connections.
 * (Counting single-key identities' exposures from Assignment.exposureCount instead was
 * measured slower: a conflicted identity's exposures are scattered over the table.)
 */
async function countVariants(
  prisma: PrismaClient,
  input: { environmentId: number; featureId: number; from: Date | null; to: Date | null },
): Promise<VariantCounts> {
  const { environmentId, featureId, from, to } = input;
  const [exposureCounts, identityCounts] = await Promise.all([
    withoutJit(
      prisma,
      prisma.$queryRaw<{ key: string; exposures: bigint }[]>`
        SELECT "variantKey" AS key, count(*) AS exposures
        FROM "Exposure"
        WHERE "environmentId" = ${environmentId} AND "featureId" = ${featureId}
          ${timeWindow(Prisma.sql`"exposedAt"`, from, to)}
        GROUP BY "variantKey"`,
    ),
    withoutJit(
      prisma,
      prisma.$queryRaw<{ key: string; identities: bigint; conflicted: bigint }[]>`
        SELECT "firstVariantKey" AS key, count(*) AS identities,
               count(*) FILTER (WHERE cardinality("variantKeys") > 1) AS conflicted
        FROM "Assignment"
        WHERE "environmentId" = ${environmentId} AND "featureId" = ${featureId}
          ${timeWindow(Prisma.sql`"firstExposedAt"`, from, to)}
        GROUP BY "firstVariantKey"`,
    ),
  ]);
  return { exposureCounts, identityCounts };
}

export async function experimentSummary(
  prisma: PrismaClient,
  input: { environmentId: number; feature: string; from?: Date | null; to?: Date | null },
): Promise<ExperimentSummary> {
  const from = input.from ?? null;
  const to = input.to ?? null;
  const scope = await resolveAnalyticsScope(prisma, input.environmentId, input.feature);
  const feature = scope.feature!;
  const environmentId = scope.environmentId;

  const [counts, options] = await Promise.all([
    countVariants(prisma, { environmentId, featureId: feature.id, from, to }),
    // Every option, archived ones included (their keys are rows too), with its effective weight here.
    prisma.$queryRaw<{ key: string | null; archivedAt: Date | null; weight: number }[]>`
      SELECT o."key", o."archivedAt", ${EFFECTIVE_WEIGHT_SQL} AS "weight"
      FROM "MultivariateOption" o
      LEFT JOIN "FeatureState" fs ON fs."featureId" = o."featureId" AND fs."environmentId" = ${environmentId}
      LEFT JOIN "VariantAllocation" a ON a."featureStateId" = fs."id" AND a."optionId" = o."id"
      WHERE o."featureId" = ${feature.id}
      ORDER BY o."priority", o."id"`,
  ]);
  const { exposureCounts, identityCounts } = counts;

  // Effective weights of live options, keyed or not: an unkeyed option takes traffic that
  // can never be reported under a key, so it is not a row, but it is not control either.
  let liveWeight = 0;
  const expected = new Map<string, { share: number; live: boolean }>();
  for (const option of options) {
    const weight = option.archivedAt ? 0 : Number(option.weight);
    liveWeight += weight;
    if (option.key !== null) expected.set(option.key, { share: share(weight), live: !option.archivedAt });
  }
  const controlShare = share(Math.max(0, 100 - liveWeight));

  const exposuresByKey = new Map(exposureCounts.map((r) => [r.key, Number(r.exposures)]));
  const identitiesByKey = new Map(identityCounts.map((r) => [r.key, Number(r.identities)]));
  const totalIdentities = identityCounts.reduce((sum, r) => sum + Number(r.identities), 0);
  const conflictedIdentities = identityCounts.reduce((sum, r) => sum + Number(r.conflicted), 0);
  const totalExposures = exposureCounts.reduce((sum, r) => sum + Number(r.exposures), 0);

  // Rows: control first (the baseline), then options by priority, then any other reported
  // key (late events under a key no option has any more), alphabetically.
  const keys = [VARIANT_CONTROL, ...expected.keys()];
  const others = [...new Set([...exposuresByKey.keys(), ...identitiesByKey.keys()])]
    .filter((key) => !keys.includes(key))
    .sort();
  const variants: VariantSummary[] = [...keys, ...others].map((variantKey) => {
    const identities = identitiesByKey.get(variantKey) ?? 0;
    const known = variantKey === VARIANT_CONTROL ? { share: controlShare, live: true } : expected.get(variantKey);
    return {
      variantKey,
      exposures: exposuresByKey.get(variantKey) ?? 0,
      identities,
      observedShare: totalIdentities === 0 ? 0 : identities / totalIdentities,
      expectedShare: known?.share ?? 0,
      live: known?.live ?? false,
    };
  });

  const srm = sampleRatioMismatch(variants.map((v) => ({ observed: v.identities, expectedShare: v.expectedShare })));
  return {
    feature: feature.name,
    environmentId,
    from,
    to,
    variants,
    totalExposures,
    totalIdentities,
    conflictedIdentities,
    srmChiSquare: srm?.chiSquare ?? null,
    srmPValue: srm?.pValue ?? null,
  };
}
