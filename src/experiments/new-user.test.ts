// The story a new user tries in GraphiQL (issue "experiments", Done when), over HTTP on a freshly
// started server with its demo project: create an experiment on `checkout_button` in production,
// start it, record exposures of what the flags served, see a weight change refused, stop, change
// the weights, start again, and read the results of both iterations, each against its own
// allocation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';

const Demo = graphql(`
  query StoryDemo {
    projects(first: 5) {
      edges {
        node {
          name
          environments { id name key }
          features(name: "checkout_button", first: 1) { edges { node { id options { id key } } } }
        }
      }
    }
  }
`);
const Create = graphql(`
  mutation StoryCreate($environmentId: ID!) {
    createExperiment(input: { environmentId: $environmentId, feature: "checkout_button", name: "button copy",
                              hypothesis: "Purchase sells more than Buy" }) {
      __typename
      ... on CreateExperimentPayload { experiment { id status iterations { number } } }
      ... on Error { code message }
    }
  }
`);
const Start = graphql(`
  mutation StoryStart($id: ID!) {
    startExperiment(input: { id: $id }) {
      __typename
      ... on StartExperimentPayload { experiment { status currentIteration { number allocation { key weight } } } }
      ... on Error { code message }
    }
  }
`);
const Stop = graphql(`
  mutation StoryStop($id: ID!) {
    stopExperiment(input: { id: $id }) {
      __typename
      ... on StopExperimentPayload { experiment { status iterations { number stoppedAt } } }
      ... on Error { code message }
    }
  }
`);
const Weights = graphql(`
  mutation StoryWeights($environmentId: ID!, $featureId: ID!, $a: ID!, $b: ID!) {
    updateFeatureState(input: { environmentId: $environmentId, featureId: $featureId,
                                allocations: [{ optionId: $a, weight: 50 }, { optionId: $b, weight: 25 }] }) {
      __typename
      ... on UpdateFeatureStatePayload { featureState { weights { key weight } controlWeight } }
      ... on ExperimentRunningError { code experimentName }
      ... on Error { code message }
    }
  }
`);
const Flag = graphql(`
  query StoryFlag($identifier: String!) {
    flag(name: "checkout_button", identifier: $identifier) { variant experiment { name iteration } }
  }
`);
const Report = graphql(`
  mutation StoryReport($input: RecordExposuresInput!) {
    recordExposures(input: $input) {
      __typename
      ... on RecordExposuresPayload { accepted rejected results { exposure { matchesAssignment iteration } } }
      ... on Error { code message }
    }
  }
`);
const Results = graphql(`
  query StoryResults($id: ID!) {
    node(id: $id) {
      ... on Experiment {
        status
        iterations { number allocation { key weight } }
        first: results(iteration: 1) { iteration exposures identities conflictedIdentities variants { key exposures identities observedShare expectedShare } srm { pValue status } }
        latest: results { iteration exposures identities conflictedIdentities variants { key exposures identities observedShare expectedShare } srm { pValue status } }
      }
    }
  }
`);

const IDENTITIES = 120;

describe.each(databaseKinds)('the experiment story of a new user on %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(() => server?.close());

  it('walks the lifecycle on the demo checkout_button: two iterations, each summarised against its own allocation', async () => {
    const { projects } = await server.data(Demo, {});
    const demo = projects.edges.map((edge) => edge.node).find((project) => project.name === 'Demo')!;
    const production = demo.environments.find((environment) => environment.name === 'production')!;
    const checkout = demo.features.edges[0].node;
    const optionId = (key: string) => checkout.options.find((option) => option.key === key)!.id;
    const client = { environmentKey: production.key };

    const { createExperiment } = await server.data(Create, { environmentId: production.id });
    expect(createExperiment).toMatchObject({ __typename: 'CreateExperimentPayload', experiment: { status: 'DRAFT', iterations: [] } });
    if (createExperiment.__typename !== 'CreateExperimentPayload') return;
    const id = createExperiment.experiment.id;

    /** Every identity asks for its flag, then reports the variant it was shown: counts by key. */
    async function exposeEveryone(iteration: number): Promise<Record<string, number>> {
      const served: { identifier: string; variantKey: string }[] = [];
      for (let i = 0; i < IDENTITIES; i++) {
        const identifier = `shopper-${i}`;
        const { flag } = await server.data(Flag, { identifier }, client);
        expect(flag?.experiment).toEqual({ name: 'button copy', iteration });
        served.push({ identifier, variantKey: flag!.variant! });
      }
      const { recordExposures } = await server.data(
        Report,
        { input: { exposures: served.map((s) => ({ feature: 'checkout_button', ...s, eventId: `${s.identifier}-it${iteration}` })) } },
        client,
      );
      expect(recordExposures).toMatchObject({ __typename: 'RecordExposuresPayload', accepted: IDENTITIES, rejected: 0 });
      if (recordExposures.__typename === 'RecordExposuresPayload') {
        expect(recordExposures.results.every((r) => r.exposure?.matchesAssignment === true && r.exposure.iteration === iteration)).toBe(true);
      }
      const counts: Record<string, number> = { variant_a: 0, variant_b: 0, control: 0 };
      for (const { variantKey } of served) counts[variantKey]++;
      return counts;
    }

    const started = await server.data(Start, { id });
    expect(started.startExperiment).toMatchObject({
      experiment: { status: 'RUNNING', currentIteration: { number: 1, allocation: [{ key: 'variant_a', weight: 34 }, { key: 'variant_b', weight: 33 }, { key: 'control', weight: 33 }] } },
    });
    const first = await exposeEveryone(1);

    const refused = await server.data(Weights, { environmentId: production.id, featureId: checkout.id, a: optionId('variant_a'), b: optionId('variant_b') });
    expect(refused.updateFeatureState).toMatchObject({ __typename: 'ExperimentRunningError', code: 'EXPERIMENT_RUNNING', experimentName: 'button copy' });

    expect((await server.data(Stop, { id })).stopExperiment).toMatchObject({ experiment: { status: 'STOPPED', iterations: [{ number: 1 }] } });
    const changed = await server.data(Weights, { environmentId: production.id, featureId: checkout.id, a: optionId('variant_a'), b: optionId('variant_b') });
    expect(changed.updateFeatureState).toMatchObject({ featureState: { weights: [{ key: 'variant_a', weight: 50 }, { key: 'variant_b', weight: 25 }], controlWeight: 25 } });
    const again = await server.data(Start, { id });
    expect(again.startExperiment).toMatchObject({
      experiment: { status: 'RUNNING', currentIteration: { number: 2, allocation: [{ key: 'variant_a', weight: 50 }, { key: 'variant_b', weight: 25 }, { key: 'control', weight: 25 }] } },
    });
    const second = await exposeEveryone(2);

    const { node } = await server.data(Results, { id });
    if (!node || !('first' in node)) throw new Error('no experiment');
    const expected = (iteration: number, counts: Record<string, number>, shares: Record<string, number>) => ({
      iteration,
      exposures: IDENTITIES,
      identities: IDENTITIES,
      conflictedIdentities: 0,
      variants: ['variant_a', 'variant_b', 'control'].map((key) => ({
        key,
        exposures: counts[key],
        identities: counts[key],
        observedShare: counts[key] / IDENTITIES,
        expectedShare: shares[key],
      })),
      srm: { pValue: expect.any(Number), status: expect.stringMatching(/^(OK|WARNING|FAILED)$/) },
    });
    expect(node.first).toEqual(expected(1, first, { variant_a: 0.34, variant_b: 0.33, control: 0.33 }));
    expect(node.latest).toEqual(expected(2, second, { variant_a: 0.5, variant_b: 0.25, control: 0.25 }));
  });
});
