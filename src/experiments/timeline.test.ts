// Experiment.timeline: the bucket rules (pure), and through GraphQL over HTTP on both databases
// that its counts equal a recount of the raw exposures (read back through `exposures`) and sum
// to Experiment.results.
import type { ResultOf } from '@graphql-typed-document-node/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { RecordExposures } from '../../test/helpers/documents.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import { seedDemoExperiment } from '../seed/demo-experiment.js';
import { bucketCount, bucketStart, chooseBucket, TIMELINE_MAX_BUCKETS, type TimelineBucket } from './timeline.js';

describe('timeline buckets', () => {
  const at = (iso: string) => Date.parse(iso);

  it('truncates in UTC, weeks from Monday', () => {
    expect(new Date(bucketStart(at('2026-12-02T13:45:59.999Z'), 'MINUTE')).toISOString()).toBe('2026-12-02T13:45:00.000Z');
    expect(new Date(bucketStart(at('2026-12-02T13:45:59.999Z'), 'HOUR')).toISOString()).toBe('2026-12-02T13:00:00.000Z');
    expect(new Date(bucketStart(at('2026-12-02T13:45:59.999Z'), 'DAY')).toISOString()).toBe('2026-12-02T00:00:00.000Z');
    // 2026-12-02 is a Wednesday; 2026-11-30 a Monday; 2026-12-06 a Sunday.
    expect(new Date(bucketStart(at('2026-12-02T13:45:00Z'), 'WEEK')).toISOString()).toBe('2026-11-30T00:00:00.000Z');
    expect(new Date(bucketStart(at('2026-11-30T00:00:00Z'), 'WEEK')).toISOString()).toBe('2026-11-30T00:00:00.000Z');
    expect(new Date(bucketStart(at('2026-12-06T23:59:59Z'), 'WEEK')).toISOString()).toBe('2026-11-30T00:00:00.000Z');
  });

  it('counts the buckets covering a span, ends included', () => {
    expect(bucketCount(at('2026-12-02T13:59:00Z'), at('2026-12-02T14:00:00Z'), 'HOUR')).toBe(2);
    expect(bucketCount(at('2026-12-02T13:00:00Z'), at('2026-12-02T13:59:59Z'), 'HOUR')).toBe(1);
    expect(bucketCount(at('2026-12-06T12:00:00Z'), at('2026-12-07T12:00:00Z'), 'WEEK')).toBe(2);
  });

  it('picks the finest bucket that fits, and refuses one asked for that does not', () => {
    const from = at('2026-12-01T00:00:00Z');
    expect(chooseBucket(from, from + 399 * 60_000, null)).toBe('MINUTE');
    expect(chooseBucket(from, from + 400 * 60_000, null)).toBe('HOUR');
    expect(chooseBucket(from, from + 20 * 86_400_000, null)).toBe('DAY');
    expect(chooseBucket(from, from + 500 * 86_400_000, null)).toBe('WEEK');
    expect(chooseBucket(from, from + 3 * 86_400_000, 'DAY')).toBe('DAY');
    expect(() => chooseBucket(from, from + 400 * 60_000, 'MINUTE')).toThrow(/at most 400/);
    expect(() => chooseBucket(from, from + 401 * 7 * 86_400_000, null)).toThrow(/more than 400 weeks/);
  });
});

const Create = graphql(`
  mutation TimelineCreateExperiment($input: CreateExperimentInput!) {
    createExperiment(input: $input) { __typename ... on CreateExperimentPayload { experiment { id } } ... on Error { code message } }
  }
`);
const Start = graphql(`
  mutation TimelineStartExperiment($input: StartExperimentInput!) {
    startExperiment(input: $input) { __typename ... on StartExperimentPayload { experiment { currentIteration { startedAt } } } ... on Error { code message } }
  }
`);
const Stop = graphql(`
  mutation TimelineStopExperiment($input: StopExperimentInput!) {
    stopExperiment(input: $input) { __typename ... on Error { code message } }
  }
`);
const Environments = graphql(`
  query TimelineEnvironments {
    projects(first: 10) { edges { node { name environments { id name key } } } }
  }
`);
const Timeline = graphql(`
  query TimelineOf($id: ID!, $iteration: Int, $bucket: TimelineBucket) {
    node(id: $id) {
      ... on Experiment {
        results(iteration: $iteration) { iteration exposures identities variants { key exposures identities } }
        timeline(iteration: $iteration, bucket: $bucket) { iteration bucket starts variants { key exposures newIdentities } }
      }
    }
  }
`);
const Exposures = graphql(`
  query TimelineExposures($environmentId: ID!, $after: String) {
    exposures(environmentId: $environmentId, feature: "checkout_button", first: 1000, after: $after) {
      edges { node { databaseId identifier variantKey exposedAt iteration experiment { id } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

const BUCKET_MS: Record<TimelineBucket, number> = { MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000, WEEK: 604_800_000 };

describe.each(databaseKinds)('Experiment.timeline on %s', (kind) => {
  let server: TestServer;
  let environments: Map<string, { id: string; key: string }>;
  let demoId: string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    const { projects } = await server.data(Environments, {});
    const demo = projects.edges.find((edge) => edge.node.name === 'Demo')!.node;
    environments = new Map(demo.environments.map((environment) => [environment.name, environment]));
  });
  afterAll(() => server?.close());

  /** Every exposure of checkout_button in the environment, read through the API. */
  async function allExposures(environmentId: string) {
    const rows: { databaseId: string; identifier: string; variantKey: string; exposedAt: string; iteration: number | null; experimentId: string | null }[] = [];
    let after: string | null = null;
    for (;;) {
      const page: ResultOf<typeof Exposures> = await server.data(Exposures, { environmentId, after });
      for (const { node } of page.exposures.edges) rows.push({ ...node, experimentId: node.experiment?.id ?? null });
      if (!page.exposures.pageInfo.hasNextPage) return rows;
      after = page.exposures.pageInfo.endCursor ?? null;
    }
  }

  /** The timeline recounted in JavaScript from the raw rows of one iteration. */
  function recount(rows: Awaited<ReturnType<typeof allExposures>>, experimentId: string, iteration: number, bucket: TimelineBucket) {
    const mine = rows.filter((row) => row.experimentId === experimentId && row.iteration === iteration);
    const start = (iso: string) => new Date(bucketStart(Date.parse(iso), bucket)).toISOString();
    const exposures = new Map<string, number>();
    const identities = new Map<string, number>();
    const first = new Map<string, (typeof mine)[number]>();
    for (const row of mine) {
      const cell = `${start(row.exposedAt)} ${row.variantKey}`;
      exposures.set(cell, (exposures.get(cell) ?? 0) + 1);
      const seen = first.get(row.identifier);
      const earlier =
        !seen || Date.parse(row.exposedAt) < Date.parse(seen.exposedAt) || (row.exposedAt === seen.exposedAt && BigInt(row.databaseId) < BigInt(seen.databaseId));
      if (earlier) first.set(row.identifier, row);
    }
    for (const row of first.values()) {
      const cell = `${start(row.exposedAt)} ${row.variantKey}`;
      identities.set(cell, (identities.get(cell) ?? 0) + 1);
    }
    return { exposures, identities, count: mine.length };
  }

  async function expectTimelineEqualsRecount(experimentId: string, environmentId: string, iteration: number, bucket: TimelineBucket | null) {
    const { node } = await server.data(Timeline, { id: experimentId, iteration, bucket });
    const timeline = node && 'timeline' in node ? node.timeline : null;
    const results = node && 'results' in node ? node.results : null;
    expect(timeline).not.toBeNull();
    if (!timeline || !results) return;
    if (bucket) expect(timeline.bucket).toBe(bucket);
    expect(timeline.starts.length).toBeLessThanOrEqual(TIMELINE_MAX_BUCKETS);
    // Dense and consecutive.
    const size = BUCKET_MS[timeline.bucket];
    timeline.starts.forEach((start, index) => {
      if (index > 0) expect(Date.parse(start) - Date.parse(timeline.starts[index - 1])).toBe(size);
    });
    const expected = recount(await allExposures(environmentId), experimentId, iteration, timeline.bucket);
    const exposures = new Map<string, number>();
    const identities = new Map<string, number>();
    for (const variant of timeline.variants) {
      expect(variant.exposures).toHaveLength(timeline.starts.length);
      expect(variant.newIdentities).toHaveLength(timeline.starts.length);
      timeline.starts.forEach((start, index) => {
        const cell = `${new Date(start).toISOString()} ${variant.key}`;
        if (variant.exposures[index]) exposures.set(cell, variant.exposures[index]);
        if (variant.newIdentities[index]) identities.set(cell, variant.newIdentities[index]);
      });
    }
    expect(exposures).toEqual(expected.exposures);
    expect(identities).toEqual(expected.identities);
    expect(expected.count).toBeGreaterThan(0);
    // Summed over time: Experiment.results, key by key.
    const sums = timeline.variants.map((variant) => ({
      key: variant.key,
      exposures: variant.exposures.reduce((a, b) => a + b, 0),
      identities: variant.newIdentities.reduce((a, b) => a + b, 0),
    }));
    expect(sums).toEqual(results.variants.map(({ key, exposures, identities }) => ({ key, exposures, identities })));
    return timeline;
  }

  it('counts days of demo traffic per hour (and per day) exactly as a recount, within the bucket bound', async () => {
    const demo = await seedDemoExperiment(server.services);
    demoId = demo.id;
    expect(demo.exposures).toBeGreaterThan(300);
    const development = environments.get('development')!.id;
    const auto = await expectTimelineEqualsRecount(demo.id, development, 1, null);
    expect(auto?.bucket).toBe('HOUR');
    expect(auto?.starts.length).toBeGreaterThanOrEqual(72);
    await expectTimelineEqualsRecount(demo.id, development, 1, 'DAY');
    await expectTimelineEqualsRecount(demo.id, development, 1, 'WEEK');
    // Three days of minutes is more than the bound: refused, with nothing computed.
    const refused = await server.request(Timeline, { id: demo.id, iteration: 1, bucket: 'MINUTE' });
    expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'INVALID_INPUT' }, path: ['node', 'timeline'] });
    expect(refused.errors?.[0].message).toMatch(/at most 400/);
  });

  it('attributes identities to their first exposure of each iteration, ties by lowest id, late and conflicting reports included', async () => {
    const production = environments.get('production')!;
    const { createExperiment } = await server.data(Create, { input: { environmentId: production.id, feature: 'checkout_button', name: 'timeline' } });
    if (createExperiment.__typename !== 'CreateExperimentPayload') throw new Error(JSON.stringify(createExperiment));
    const id = createExperiment.experiment.id;
    const record = async (items: { identifier: string; variantKey: string; exposedAt: Date }[]) => {
      const { recordExposures } = await server.data(
        RecordExposures,
        { input: { exposures: items.map((item) => ({ feature: 'checkout_button', ...item, exposedAt: item.exposedAt.toISOString() })) } },
        { environmentKey: production.key },
      );
      expect(recordExposures).toMatchObject({ accepted: items.length });
    };
    // Before any iteration: stamped with none, counted nowhere.
    await record([{ identifier: 'early', variantKey: 'control', exposedAt: new Date(Date.now() - 60_000) }]);

    const started = await server.data(Start, { input: { id } });
    if (started.startExperiment.__typename !== 'StartExperimentPayload') throw new Error(JSON.stringify(started));
    const t0 = Date.parse(started.startExperiment.experiment.currentIteration!.startedAt);
    const keys = ['control', 'variant_a', 'variant_b'];
    const items: { identifier: string; variantKey: string; exposedAt: Date }[] = [];
    for (let n = 0; n < 60; n++) {
      // Up to 4 minutes ahead of the start (reports may be ahead of the server's clock by 5).
      items.push({ identifier: `u${n % 25}`, variantKey: keys[n % 3], exposedAt: new Date(t0 + ((n * 7919) % 240_000)) });
    }
    // The same instant, two keys, one batch: the first item (lower id) is the first exposure.
    items.push({ identifier: 'tie', variantKey: 'variant_b', exposedAt: new Date(t0 + 90_000) });
    items.push({ identifier: 'tie', variantKey: 'variant_a', exposedAt: new Date(t0 + 90_000) });
    await record(items);
    // A late report, earlier than everything its identity saw: it becomes the first.
    await record([{ identifier: 'u1', variantKey: 'variant_b', exposedAt: new Date(t0) }]);

    const first = await expectTimelineEqualsRecount(id, production.id, 1, 'MINUTE');
    expect(first?.starts.length).toBeGreaterThanOrEqual(4);
    await expectTimelineEqualsRecount(id, production.id, 1, null);
    await expectTimelineEqualsRecount(id, production.id, 1, 'HOUR');

    // A second iteration counts on its own; the first one's timeline stays as it was.
    await server.data(Stop, { input: { id } });
    const again = await server.data(Start, { input: { id } });
    if (again.startExperiment.__typename !== 'StartExperimentPayload') throw new Error(JSON.stringify(again));
    const t1 = Date.parse(again.startExperiment.experiment.currentIteration!.startedAt);
    await record([
      { identifier: 'u1', variantKey: 'variant_a', exposedAt: new Date(t1 + 1000) },
      { identifier: 'new', variantKey: 'control', exposedAt: new Date(t1 + 2000) },
    ]);
    await expectTimelineEqualsRecount(id, production.id, 1, 'MINUTE');
    const second = await expectTimelineEqualsRecount(id, production.id, 2, null);
    expect(second?.iteration).toBe(2);
    const latest = await server.data(Timeline, { id, iteration: null, bucket: null });
    expect(latest.node && 'timeline' in latest.node ? latest.node.timeline?.iteration : null).toBe(2);
    const missing = await server.data(Timeline, { id, iteration: 3, bucket: null });
    expect(missing.node && 'timeline' in missing.node ? missing.node.timeline : 'absent').toBeNull();
  });

  it('is read by analytics and admin tokens only', async () => {
    const development = environments.get('development')!;
    const variables = { id: demoId, iteration: null, bucket: null };
    const asAdmin = await server.data(Timeline, variables);
    const asAnalytics = await server.request(Timeline, variables, { token: server.analyticsToken });
    expect(asAnalytics.errors).toBeUndefined();
    expect(asAnalytics.data).toEqual(asAdmin);
    const asClient = await server.request(Timeline, variables, { environmentKey: development.key });
    expect(asClient.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const anonymous = await server.request(Timeline, variables, { headers: {} });
    expect(anonymous.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});
