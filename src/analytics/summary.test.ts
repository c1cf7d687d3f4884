import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import { globalId } from '../../test/helpers/ids.js';
import { createFixtureExperiment, type FixtureExposure, writeExposures } from '../../test/helpers/analytics-fixtures.js';

const Summary = graphql(`
  query AnalyticsSummary($environmentId: ID!, $feature: String!, $from: DateTime, $to: DateTime) {
    experimentSummary(environmentId: $environmentId, feature: $feature, from: $from, to: $to) {
      feature
      from
      to
      totalExposures
      totalIdentities
      conflictedIdentities
      srmChiSquare
      srmPValue
      variants { variantKey exposures identities observedShare expectedShare live }
    }
  }
`);

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

/** A small deterministic PRNG, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe.each(databaseKinds)('experimentSummary on %s', (kind) => {
  let server: TestServer;
  let projects = 0;
  const newExperiment = (options: Parameters<typeof createFixtureExperiment>[1]['options']) =>
    createFixtureExperiment(server.services.prisma, { projectName: `Summary ${++projects}`, options });

  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(() => server?.close());

  it('equals a recount from the raw exposure rows, with and without a time window', async () => {
    const experiment = await newExperiment([
      { key: 'variant_a', defaultWeight: 30 },
      { key: 'variant_b', defaultWeight: 20, weight: 40 },
      { key: null, defaultWeight: 5 },
      { key: 'old', defaultWeight: 10, archived: true },
    ]);
    const next = random(7);
    const keys = ['variant_a', 'variant_b', 'control', 'old'];
    const exposures: FixtureExposure[] = [];
    for (let i = 0; i < 400; i++) {
      exposures.push({
        identifier: `user-${Math.floor(next() * 90)}`,
        variantKey: keys[Math.floor(next() * keys.length)],
        // Whole minutes over 5 days: some identities have two exposures at the same instant,
        // where the lower id is the first.
        exposedAt: at(Math.floor(next() * 60 * 24 * 5)),
      });
    }
    await writeExposures(server.services.prisma, experiment, exposures.slice(0, 250));
    await writeExposures(server.services.prisma, experiment, exposures.slice(250));

    const rows = await server.services.prisma.exposure.findMany({
      where: { environmentId: experiment.environmentId, featureId: experiment.featureId },
      select: { id: true, identityId: true, variantKey: true, exposedAt: true },
    });
    expect(rows).toHaveLength(400);

    const recount = (from: Date | null, to: Date | null) => {
      const inWindow = (d: Date) => (!from || d >= from) && (!to || d < to);
      const exposuresByKey = new Map<string, number>();
      for (const row of rows) if (inWindow(row.exposedAt)) exposuresByKey.set(row.variantKey, (exposuresByKey.get(row.variantKey) ?? 0) + 1);
      const byIdentity = new Map<number, typeof rows>();
      for (const row of rows) byIdentity.set(row.identityId, [...(byIdentity.get(row.identityId) ?? []), row]);
      const identitiesByKey = new Map<string, number>();
      let total = 0;
      let conflicted = 0;
      for (const own of byIdentity.values()) {
        const first = [...own].sort((a, b) => a.exposedAt.getTime() - b.exposedAt.getTime() || Number(a.id - b.id))[0];
        if (!inWindow(first.exposedAt)) continue;
        total += 1;
        if (new Set(own.map((r) => r.variantKey)).size > 1) conflicted += 1;
        identitiesByKey.set(first.variantKey, (identitiesByKey.get(first.variantKey) ?? 0) + 1);
      }
      return { exposuresByKey, identitiesByKey, total, conflicted };
    };

    for (const [from, to] of [
      [null, null],
      [at(60 * 24), at(60 * 24 * 3)],
      [at(60 * 24 * 2), null],
    ] as const) {
      const expected = recount(from, to);
      const { experimentSummary: summary } = await server.data(Summary, {
        environmentId: experiment.environmentGlobalId,
        feature: experiment.featureName,
        from: from?.toISOString(),
        to: to?.toISOString(),
      });
      expect(summary.variants.map((v) => v.variantKey)).toEqual(['control', 'variant_a', 'variant_b', 'old']);
      for (const variant of summary.variants) {
        expect(variant.exposures).toBe(expected.exposuresByKey.get(variant.variantKey) ?? 0);
        expect(variant.identities).toBe(expected.identitiesByKey.get(variant.variantKey) ?? 0);
        expect(variant.observedShare).toBeCloseTo((expected.identitiesByKey.get(variant.variantKey) ?? 0) / expected.total, 12);
      }
      expect(summary.totalIdentities).toBe(expected.total);
      expect(summary.conflictedIdentities).toBe(expected.conflicted);
      expect(summary.conflictedIdentities).toBeGreaterThan(0);
      expect(summary.totalExposures).toBe([...expected.exposuresByKey.values()].reduce((a, b) => a + b, 0));
      // Effective weights: variant_b's allocation (40) overrides its default (20); the unkeyed
      // option's 5 is nobody's row and not control's; the archived option gets nothing.
      expect(Object.fromEntries(summary.variants.map((v) => [v.variantKey, [v.expectedShare, v.live]]))).toEqual({
        control: [0.25, true],
        variant_a: [0.3, true],
        variant_b: [0.4, true],
        old: [0, false],
      });
    }
  });

  it('moves the first variant when a late, earlier event arrives, and counts the identity as conflicted', async () => {
    const experiment = await newExperiment([
      { key: 'a', defaultWeight: 50 },
      { key: 'b', defaultWeight: 50 },
    ]);
    const vars = { environmentId: experiment.environmentGlobalId, feature: experiment.featureName };
    await writeExposures(server.services.prisma, experiment, [
      { identifier: 'late', variantKey: 'a', exposedAt: at(100) },
      { identifier: 'late', variantKey: 'a', exposedAt: at(110) },
      { identifier: 'steady', variantKey: 'b', exposedAt: at(50) },
    ]);
    const before = (await server.data(Summary, vars)).experimentSummary;
    expect(before.variants.map((v) => [v.variantKey, v.identities, v.exposures])).toEqual([
      ['control', 0, 0],
      ['a', 1, 2],
      ['b', 1, 1],
    ]);
    expect(before.conflictedIdentities).toBe(0);

    await writeExposures(server.services.prisma, experiment, [{ identifier: 'late', variantKey: 'b', exposedAt: at(90) }]);
    const after = (await server.data(Summary, vars)).experimentSummary;
    expect(after.variants.map((v) => [v.variantKey, v.identities, v.exposures])).toEqual([
      ['control', 0, 0],
      ['a', 0, 2],
      ['b', 2, 2],
    ]);
    expect(after.totalIdentities).toBe(2);
    expect(after.conflictedIdentities).toBe(1);

    // The window is on the first exposure: [95, 200) no longer holds "late" (first at 90).
    const windowed = (await server.data(Summary, { ...vars, from: at(95).toISOString(), to: at(200).toISOString() })).experimentSummary;
    expect(windowed.totalIdentities).toBe(0);
    expect(windowed.variants.find((v) => v.variantKey === 'a')?.exposures).toBe(2);
    expect(windowed.from).toBe(at(95).toISOString());
    expect(windowed.srmPValue).toBeNull();
  });

  it('passes a fair split and flags a 450/150 split of a 50/50 experiment (p < 0.001)', async () => {
    const split = async (a: number, b: number) => {
      const experiment = await newExperiment([
        { key: 'a', defaultWeight: 50 },
        { key: 'b', defaultWeight: 50 },
      ]);
      const exposures: FixtureExposure[] = [];
      for (let i = 0; i < a + b; i++) exposures.push({ identifier: `u${i}`, variantKey: i < a ? 'a' : 'b', exposedAt: at(i) });
      await writeExposures(server.services.prisma, experiment, exposures);
      return (await server.data(Summary, { environmentId: experiment.environmentGlobalId, feature: experiment.featureName }))
        .experimentSummary;
    };
    const fair = await split(310, 290);
    expect(fair.totalIdentities).toBe(600);
    // Control has an expected share of 0 here, so it is not part of the test (1 degree of freedom).
    expect(fair.srmChiSquare).toBeCloseTo((10 * 10 * 2) / 300, 10);
    expect(fair.srmPValue).toBeGreaterThan(0.05);
    const skewed = await split(450, 150);
    expect(skewed.srmChiSquare).toBeCloseTo(150, 10);
    expect(skewed.srmPValue).toBeLessThan(0.001);
  });

  it('tests against shares renormalised over the variants that can be reported', async () => {
    // 40/40 keyed, 20 unkeyed: control gets 0, reported identities should split 50/50.
    const experiment = await newExperiment([
      { key: 'a', defaultWeight: 40 },
      { key: 'b', defaultWeight: 40 },
      { key: null, defaultWeight: 20 },
    ]);
    const exposures: FixtureExposure[] = [];
    for (let i = 0; i < 200; i++) exposures.push({ identifier: `u${i}`, variantKey: i % 2 ? 'a' : 'b', exposedAt: at(i) });
    await writeExposures(server.services.prisma, experiment, exposures);
    const { experimentSummary: summary } = await server.data(Summary, {
      environmentId: experiment.environmentGlobalId,
      feature: experiment.featureName,
    });
    expect(summary.variants.map((v) => v.expectedShare)).toEqual([0, 0.4, 0.4]);
    expect(summary.srmChiSquare).toBeCloseTo(0, 10);
    expect(summary.srmPValue).toBeCloseTo(1, 10);
  });

  it('answers unknown environments and features with typed GraphQL errors, and only to analytics callers', async () => {
    const experiment = await newExperiment([{ key: 'a', defaultWeight: 50 }]);
    const missingEnv = await server.request(Summary, { environmentId: globalId('Environment', 999999), feature: 'x' });
    expect(missingEnv.errors?.[0]?.extensions?.code, JSON.stringify(missingEnv)).toBe('NOT_FOUND');
    const missingFeature = await server.request(Summary, { environmentId: experiment.environmentGlobalId, feature: 'nope' });
    expect(missingFeature.errors?.[0]?.extensions?.code).toBe('FEATURE_NOT_FOUND');

    const vars = { environmentId: experiment.environmentGlobalId, feature: experiment.featureName };
    const analytics = await server.request(Summary, vars, { token: server.analyticsToken });
    expect(analytics.errors).toBeUndefined();
    expect(analytics.data?.experimentSummary.variants.map((v) => v.variantKey)).toEqual(['control', 'a']);
    const anonymous = await server.request(Summary, vars, {});
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const client = await server.request(Summary, vars, { environmentKey: server.demo.environments[0].key });
    expect(client.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
