// Test and benchmark fixtures: writes exposures straight into the tables and keeps the
// Assignment rows exactly as the exposure recorder keeps them (SPEC.md section 5), derived
// from the exposure rows in SQL. Not used by the server.
import { newEnvironmentKey } from '../../src/auth/credentials.js';
import { Prisma, type PrismaClient } from '../../src/generated/prisma/client.js';
import { globalId } from './ids.js';

type Sql = Pick<PrismaClient, '$executeRaw' | '$queryRaw'>;

export interface FixtureExposure {
  identifier: string;
  variantKey: string;
  exposedAt: Date;
  source?: 'CLIENT' | 'SERVER';
  matchesAssignment?: boolean;
  eventId?: string | null;
}

const CHUNK = 2000;

/**
 * Inserts the exposures of one feature in one environment (identities created on first
 * sight, optionId from the option with that key), then rebuilds the Assignment rows of the
 * identities involved from all their exposures:
 * first variant/time = the earliest exposedAt (ties: lowest exposure id), last time = the
 * latest, count, distinct keys sorted. Run it inside a transaction to write atomically.
 */
export async function writeExposures(
  sql: Sql,
  target: { environmentId: number; featureId: number },
  exposures: FixtureExposure[],
): Promise<void> {
  const { environmentId, featureId } = target;
  for (let start = 0; start < exposures.length; start += CHUNK) {
    const chunk = exposures.slice(start, start + CHUNK);
    const identifiers = [...new Set(chunk.map((e) => e.identifier))];
    await sql.$executeRaw`
      INSERT INTO "Identity" ("environmentId", "identifier", "updatedAt")
      SELECT ${environmentId}, x, now() FROM unnest(${identifiers}::text[]) AS x
      ON CONFLICT ("environmentId", "identifier") DO NOTHING`;
    const values = chunk.map(
      (e) =>
        Prisma.sql`(${e.identifier}::text, ${e.variantKey}::text, ${e.exposedAt.toISOString()}::timestamptz, ${e.source ?? 'CLIENT'}::text, ${e.matchesAssignment ?? true}::boolean, ${e.eventId ?? null}::text)`,
    );
    // One multi-row INSERT, as the exposure recorder writes a batch.
    await sql.$executeRaw`
      INSERT INTO "Exposure" ("environmentId", "featureId", "optionId", "variantKey", "identityId", "exposedAt", "eventId", "source", "matchesAssignment")
      SELECT ${environmentId}, ${featureId}, o.id, v.key, i.id, v.at, v.event, v.source::"ExposureSource", v.matches
      FROM (VALUES ${Prisma.join(values)}) AS v(identifier, key, at, source, matches, event)
      JOIN "Identity" i ON i."environmentId" = ${environmentId} AND i.identifier = v.identifier
      LEFT JOIN "MultivariateOption" o ON o."featureId" = ${featureId} AND o.key = v.key
      ORDER BY v.at`;
    await rebuildAssignments(sql, { environmentId, featureId }, identifiers);
  }
}

/** Recomputes the Assignment rows of (environment, feature) for these identifiers, or all. */
export async function rebuildAssignments(
  sql: Sql,
  target: { environmentId: number; featureId: number },
  identifiers?: string[],
): Promise<void> {
  const { environmentId, featureId } = target;
  const only = identifiers
    ? Prisma.sql`AND e."identityId" IN (SELECT id FROM "Identity" WHERE "environmentId" = ${environmentId} AND identifier = ANY(${identifiers}::text[]))`
    : Prisma.empty;
  await sql.$executeRaw`
    INSERT INTO "Assignment" ("environmentId", "featureId", "identityId", "firstVariantKey", "firstExposedAt",
                              "lastExposedAt", "exposureCount", "variantKeys", "updatedAt")
    SELECT e."environmentId", e."featureId", e."identityId",
           (array_agg(e."variantKey" ORDER BY e."exposedAt", e.id))[1],
           min(e."exposedAt"), max(e."exposedAt"), count(*)::int,
           array_agg(DISTINCT e."variantKey" ORDER BY e."variantKey"),
           now()
    FROM "Exposure" e
    WHERE e."environmentId" = ${environmentId} AND e."featureId" = ${featureId} ${only}
    GROUP BY e."environmentId", e."featureId", e."identityId"
    ON CONFLICT ("environmentId", "featureId", "identityId") DO UPDATE SET
      "firstVariantKey" = EXCLUDED."firstVariantKey",
      "firstExposedAt" = EXCLUDED."firstExposedAt",
      "lastExposedAt" = EXCLUDED."lastExposedAt",
      "exposureCount" = EXCLUDED."exposureCount",
      "variantKeys" = EXCLUDED."variantKeys",
      "updatedAt" = now()`;
}

export interface FixtureExperiment {
  projectId: number;
  environmentId: number;
  /** The environment's global id (what `environmentId` arguments and `environment=` take). */
  environmentGlobalId: string;
  featureId: number;
  featureName: string;
  featureStateId: number;
}

/**
 * A project with one environment and one multivariate feature, written straight to the
 * tables. `weight` overrides an option's default weight in this environment.
 */
export async function createFixtureExperiment(
  prisma: PrismaClient,
  input: {
    projectName: string;
    featureName?: string;
    options: { key: string | null; defaultWeight: number; weight?: number; archived?: boolean }[];
  },
): Promise<FixtureExperiment> {
  const project = await prisma.project.create({
    data: {
      name: input.projectName,
      environments: { create: [{ name: 'production', key: newEnvironmentKey() }] },
    },
    include: { environments: true },
  });
  const environment = project.environments[0];
  const feature = await prisma.feature.create({
    data: { projectId: project.id, name: input.featureName ?? 'experiment', initialValue: 'control value', defaultEnabled: true },
  });
  const state = await prisma.featureState.create({ data: { environmentId: environment.id, featureId: feature.id, enabled: true } });
  for (const [index, option] of input.options.entries()) {
    const created = await prisma.multivariateOption.create({
      data: {
        featureId: feature.id,
        key: option.key,
        value: option.key ?? `unkeyed ${index}`,
        defaultWeight: option.defaultWeight,
        priority: index + 1,
        archivedAt: option.archived ? new Date() : null,
      },
    });
    if (option.weight !== undefined) {
      await prisma.variantAllocation.create({ data: { featureStateId: state.id, optionId: created.id, weight: option.weight } });
    }
  }
  return {
    projectId: project.id,
    environmentId: environment.id,
    environmentGlobalId: globalId('Environment', environment.id),
    featureId: feature.id,
    featureName: feature.name,
    featureStateId: state.id,
  };
}
