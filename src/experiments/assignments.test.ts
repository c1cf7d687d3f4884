// Assignment per iteration (SPEC.md section 9): an identity's first variant in iteration 2 is not
// its first variant ever. Experiment.results counts identities by their first exposure in the
// iteration and conflicts within it, equal to a recount from the raw exposures, also under
// concurrent batches and retries; the all-time Assignment (experimentSummary) is kept beside it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import type { IterRawQuery } from '../../test/generated/graphql.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { CreateProject } from '../../test/helpers/documents.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';

const CreateFeature = graphql(`
  mutation IterCreateFeature($input: CreateFeatureInput!) {
    createFeature(input: $input) { __typename ... on CreateFeaturePayload { feature { id name options { id key } } } ... on Error { code message } }
  }
`);
const CreateExperiment = graphql(`
  mutation IterCreateExperiment($input: CreateExperimentInput!) {
    createExperiment(input: $input) { __typename ... on CreateExperimentPayload { experiment { id } } ... on Error { code message } }
  }
`);
const StartExperiment = graphql(`
  mutation IterStartExperiment($input: StartExperimentInput!) {
    startExperiment(input: $input) {
      __typename ... on StartExperimentPayload { experiment { currentIteration { number startedAt } } } ... on Error { code message }
    }
  }
`);
const StopExperiment = graphql(`
  mutation IterStopExperiment($input: StopExperimentInput!) {
    stopExperiment(input: $input) { __typename ... on StopExperimentPayload { experiment { iterations { number startedAt stoppedAt } } } ... on Error { code message } }
  }
`);
const Record = graphql(`
  mutation IterRecord($input: RecordExposuresInput!) {
    recordExposures(input: $input) {
      __typename
      ... on RecordExposuresPayload { accepted duplicates rejected results { status exposure { databaseId iteration } error { code message } } }
      ... on Error { code message }
    }
  }
`);
const Results = graphql(`
  query IterResults($id: ID!, $iteration: Int) {
    node(id: $id) {
      ... on Experiment {
        results(iteration: $iteration) {
          iteration exposures identities conflictedIdentities
          variants { key exposures identities conflictedIdentities }
        }
      }
    }
  }
`);
const Raw = graphql(`
  query IterRaw($environmentId: ID!, $feature: String!, $after: String) {
    exposures(environmentId: $environmentId, feature: $feature, first: 1000, after: $after) {
      edges { node { databaseId identifier variantKey exposedAt iteration experiment { id } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);
const Summary = graphql(`
  query IterSummary($environmentId: ID!, $feature: String!) {
    experimentSummary(environmentId: $environmentId, feature: $feature) {
      totalIdentities conflictedIdentities
      variants { variantKey exposures identities }
    }
  }
`);

type Item = { identifier: string; variantKey: string; exposedAt?: string; eventId?: string };
type Counted = { key: string; exposures: number; identities: number; conflictedIdentities: number };

/** A fixed pseudo-random sequence from `seed`: next(n) is in [0, n). */
function pseudoRandom(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
}

describe.each(databaseKinds)('assignment per iteration on %s', (kind) => {
  let server: TestServer;
  let projectId: string;
  let production: string;
  let productionKey: string;
  let counter = 0;
  const unique = (prefix: string) => `${prefix}_${++counter}`;

  beforeAll(async () => {
    server = await startTestServer(kind);
    const { createProject } = await server.data(CreateProject, { input: { name: 'Iterations' } });
    if (createProject.__typename !== 'CreateProjectPayload') throw new Error(createProject.__typename);
    projectId = createProject.project.id;
    const prod = createProject.project.environments.find((e) => e.name === 'production')!;
    production = prod.id;
    productionKey = prod.key;
  });
  afterAll(() => server?.close());

  async function runningExperiment(keys: string[]) {
    const name = unique('feature');
    const { createFeature } = await server.data(CreateFeature, {
      input: { projectId, name, initialValue: 'grey', options: keys.map((key) => ({ key, value: key, defaultWeight: Math.floor(100 / (keys.length + 1)) })) },
    });
    if (createFeature.__typename !== 'CreateFeaturePayload') throw new Error(createFeature.__typename);
    const { createExperiment } = await server.data(CreateExperiment, { input: { environmentId: production, feature: name, name: unique('exp') } });
    if (createExperiment.__typename !== 'CreateExperimentPayload') throw new Error(createExperiment.__typename);
    const id = createExperiment.experiment.id;
    const startedAt = await start(id);
    return { feature: name, id, startedAt };
  }

  async function start(id: string): Promise<number> {
    const { startExperiment } = await server.data(StartExperiment, { input: { id } });
    if (startExperiment.__typename !== 'StartExperimentPayload') throw new Error(startExperiment.__typename);
    return new Date(startExperiment.experiment.currentIteration!.startedAt as string).getTime();
  }

  async function stop(id: string) {
    const { stopExperiment } = await server.data(StopExperiment, { input: { id } });
    if (stopExperiment.__typename !== 'StopExperimentPayload') throw new Error(stopExperiment.__typename);
    return stopExperiment.experiment.iterations;
  }

  async function record(feature: string, items: Item[]) {
    const { recordExposures } = await server.data(
      Record,
      { input: { exposures: items.map((item) => ({ feature, ...item })) } },
      { environmentKey: productionKey },
    );
    if (recordExposures.__typename !== 'RecordExposuresPayload' || recordExposures.rejected !== 0) throw new Error(JSON.stringify(recordExposures));
    return recordExposures;
  }

  async function results(id: string, iteration?: number) {
    const { node } = await server.data(Results, { id, iteration });
    if (!node || !('results' in node) || !node.results) throw new Error('no results');
    return node.results;
  }

  /** Per iteration of the experiment: the results recounted from every raw exposure. */
  async function recount(feature: string, experimentId: string) {
    const rows: { databaseId: string; identifier: string; variantKey: string; exposedAt: string; iteration: number }[] = [];
    let after: string | null = null;
    for (;;) {
      const { exposures }: IterRawQuery = await server.data(Raw, { environmentId: production, feature, after });
      for (const { node } of exposures.edges) {
        if (node.experiment?.id === experimentId && typeof node.iteration === 'number') rows.push({ ...node, exposedAt: String(node.exposedAt), iteration: node.iteration });
      }
      if (!exposures.pageInfo.hasNextPage) break;
      after = exposures.pageInfo.endCursor ?? null;
    }
    const byIteration = new Map<number, Map<string, Counted>>();
    const iterations = [...new Set(rows.map((row) => row.iteration))];
    for (const iteration of iterations) {
      const variants = new Map<string, Counted>();
      const variant = (key: string) => {
        let v = variants.get(key);
        if (!v) variants.set(key, (v = { key, exposures: 0, identities: 0, conflictedIdentities: 0 }));
        return v;
      };
      const byIdentity = new Map<string, typeof rows>();
      for (const row of rows.filter((r) => r.iteration === iteration)) {
        variant(row.variantKey).exposures++;
        byIdentity.set(row.identifier, [...(byIdentity.get(row.identifier) ?? []), row]);
      }
      for (const exposures of byIdentity.values()) {
        exposures.sort((x, y) => Date.parse(x.exposedAt) - Date.parse(y.exposedAt) || Number(BigInt(x.databaseId) - BigInt(y.databaseId)));
        const first = variant(exposures[0].variantKey);
        first.identities++;
        if (new Set(exposures.map((e) => e.variantKey)).size > 1) first.conflictedIdentities++;
      }
      byIteration.set(iteration, variants);
    }
    return byIteration;
  }

  /** The results' variants that have exposures, as a recount gives them. */
  function counted(variants: Counted[]): Counted[] {
    return variants.filter((v) => v.exposures > 0).sort((x, y) => x.key.localeCompare(y.key));
  }

  it("counts an identity by its first variant in each iteration, not its first ever, beside the all-time assignment", async () => {
    const { feature, id, startedAt } = await runningExperiment(['a', 'b']);
    await record(feature, [{ identifier: 'u1', variantKey: 'a' }, { identifier: 'u2', variantKey: 'a' }, { identifier: 'u3', variantKey: 'b' }]);
    await record(feature, [{ identifier: 'u2', variantKey: 'b' }]);
    await stop(id);
    await start(id);
    await record(feature, [{ identifier: 'u1', variantKey: 'b' }, { identifier: 'u2', variantKey: 'b' }, { identifier: 'u4', variantKey: 'a' }]);
    await record(feature, [{ identifier: 'u1', variantKey: 'b' }]);

    expect(await results(id, 1)).toEqual({
      iteration: 1,
      exposures: 4,
      identities: 3,
      conflictedIdentities: 1,
      variants: [
        { key: 'a', exposures: 2, identities: 2, conflictedIdentities: 1 },
        { key: 'b', exposures: 2, identities: 1, conflictedIdentities: 0 },
        { key: 'control', exposures: 0, identities: 0, conflictedIdentities: 0 },
      ],
    });
    // u1 and u2 saw a first ever, but b first in iteration 2; nobody is conflicted in it.
    expect(await results(id, 2)).toEqual({
      iteration: 2,
      exposures: 4,
      identities: 3,
      conflictedIdentities: 0,
      variants: [
        { key: 'a', exposures: 1, identities: 1, conflictedIdentities: 0 },
        { key: 'b', exposures: 3, identities: 2, conflictedIdentities: 0 },
        { key: 'control', exposures: 0, identities: 0, conflictedIdentities: 0 },
      ],
    });
    // All time (section 6): u1 and u2 first saw a, and both saw a and b.
    const { experimentSummary } = await server.data(Summary, { environmentId: production, feature });
    expect(experimentSummary).toMatchObject({ totalIdentities: 4, conflictedIdentities: 2 });
    expect(experimentSummary.variants.filter((v) => v.identities > 0).map((v) => [v.variantKey, v.identities])).toEqual([
      ['a', 3],
      ['b', 1],
    ]);

    // A late event of iteration 1, earlier than u3's exposure there: u3's first variant in
    // iteration 1 moves to a, and u3 is conflicted there; iteration 2 does not change.
    await record(feature, [{ identifier: 'u3', variantKey: 'a', exposedAt: new Date(startedAt).toISOString() }]);
    expect(await results(id, 1)).toMatchObject({
      exposures: 5,
      identities: 3,
      conflictedIdentities: 2,
      variants: [
        { key: 'a', exposures: 3, identities: 3, conflictedIdentities: 2 },
        { key: 'b', exposures: 2, identities: 0, conflictedIdentities: 0 },
        { key: 'control', identities: 0 },
      ],
    });
    expect((await results(id, 2)).conflictedIdentities).toBe(0);
    const raw = await recount(feature, id);
    expect(counted((await results(id, 1)).variants)).toEqual(counted([...raw.get(1)!.values()]));
    expect(counted((await results(id, 2)).variants)).toEqual(counted([...raw.get(2)!.values()]));
  });

  it('equals a recount under 20 concurrent batches with ties and late events, and retries count nothing twice', async () => {
    const { feature, id, startedAt } = await runningExperiment(['a', 'b']);
    // A fixed pseudo-random sequence: 40 identities, keys a/b/control, three exposedAt
    // instants (ties across batches are settled by exposure id, as a recount does).
    const next = pseudoRandom(12345);
    const keys = ['a', 'b', 'control'];
    const batches: Item[][] = Array.from({ length: 20 }, (_, batch) =>
      Array.from({ length: 50 }, (_, i) => ({
        identifier: `id${next(40)}`,
        variantKey: keys[next(3)],
        exposedAt: new Date(startedAt + next(3)).toISOString(),
        eventId: `ev-${batch}-${i}`,
      })),
    );
    const first = await Promise.all(batches.map((items) => record(feature, items)));
    expect(first.reduce((sum, r) => sum + r.accepted, 0)).toBe(1000);

    // Retries of every batch, racing each other and 5 new batches: duplicates only.
    const fresh: Item[][] = Array.from({ length: 5 }, (_, batch) =>
      Array.from({ length: 40 }, (_, i) => ({ identifier: `id${next(40)}`, variantKey: keys[next(3)], eventId: `new-${batch}-${i}` })),
    );
    const again = await Promise.all([...batches, ...batches.slice(0, 5), ...fresh].map((items) => record(feature, items)));
    expect(again.slice(0, 25).every((r) => r.accepted === 0 && r.duplicates === 50)).toBe(true);
    expect(again.slice(25).reduce((sum, r) => sum + r.accepted, 0)).toBe(200);

    const result = await results(id);
    const raw = (await recount(feature, id)).get(1)!;
    expect(result.exposures).toBe(1200);
    expect(counted(result.variants)).toEqual(counted([...raw.values()]));
    expect(result.identities).toBe([...raw.values()].reduce((sum, v) => sum + v.identities, 0));
    expect(result.conflictedIdentities).toBe([...raw.values()].reduce((sum, v) => sum + v.conflictedIdentities, 0));
    expect(result.conflictedIdentities).toBeGreaterThan(0);
  });

  it('equals a recount when most exposures repeat an identity\'s own key, with strays and earlier late events racing', async () => {
    // The usual traffic (each identity reports its own key) leaves most assignment rows as they
    // are; strays make an identity conflicted, late events move its first exposure earlier.
    const { feature, id, startedAt } = await runningExperiment(['a', 'b']);
    const next = pseudoRandom(777);
    const keys = ['a', 'b', 'control'];
    const wave = (name: string, offset: number) =>
      Array.from({ length: 20 }, (_, batch) =>
        Array.from({ length: 50 }, (_, i) => {
          const identity = (batch * 7 + i) % 60;
          return {
            identifier: `stable${identity}`,
            variantKey: next(100) === 0 ? keys[next(3)] : keys[identity % 3],
            exposedAt: new Date(startedAt + offset + next(5)).toISOString(),
            eventId: `${name}-${batch}-${i}`,
          };
        }),
      );
    // A first wave, then a second one racing a wave of late events (earlier than anything so far).
    const early = await Promise.all(wave('first', 1000).map((items) => record(feature, items)));
    const later = await Promise.all([...wave('second', 2000), ...wave('late', 10)].map((items) => record(feature, items)));
    expect([...early, ...later].reduce((sum, r) => sum + r.accepted, 0)).toBe(3000);

    const result = await results(id);
    const raw = (await recount(feature, id)).get(1)!;
    expect(result.exposures).toBe(3000);
    expect(counted(result.variants)).toEqual(counted([...raw.values()]));
    expect(result.identities).toBe(60);
    const conflicted = [...raw.values()].reduce((sum, v) => sum + v.conflictedIdentities, 0);
    expect(result.conflictedIdentities).toBe(conflicted);
    expect(conflicted).toBeGreaterThan(0);
    expect(conflicted).toBeLessThan(60);
  });
});
