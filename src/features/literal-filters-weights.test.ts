// `nameContains` matches its text literally, and weights carry at most two decimals with sums
// compared exactly, on every path that writes a weight.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { CreateProject as NewProject } from '../../test/helpers/documents.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';

const CreateFeature = graphql(`
  mutation LitCreateFeature($input: CreateFeatureInput!) {
    createFeature(input: $input) {
      __typename
      ... on CreateFeaturePayload { feature { id name options { id key defaultWeight } states { id controlWeight } } }
      ... on Error { code message }
      ... on ValidationError { path }
      ... on WeightsError { total }
    }
  }
`);

const CreateOption = graphql(`
  mutation LitCreateOption($input: CreateMultivariateOptionInput!) {
    createMultivariateOption(input: $input) {
      __typename
      ... on CreateMultivariateOptionPayload { option { id defaultWeight } }
      ... on Error { code message }
      ... on ValidationError { path }
    }
  }
`);

const UpdateOption = graphql(`
  mutation LitUpdateOption($input: UpdateMultivariateOptionInput!) {
    updateMultivariateOption(input: $input) {
      __typename
      ... on UpdateMultivariateOptionPayload { option { id defaultWeight } }
      ... on Error { code message }
      ... on ValidationError { path }
    }
  }
`);

const UpdateState = graphql(`
  mutation LitUpdateState($input: UpdateFeatureStateInput!) {
    updateFeatureState(input: $input) {
      __typename
      ... on UpdateFeatureStatePayload { featureState { controlWeight weights { key weight } } }
      ... on Error { code message }
      ... on ValidationError { path }
      ... on WeightsError { total }
    }
  }
`);

const Features = graphql(`
  query LitFeatures($id: ID!, $nameContains: String) {
    project(id: $id) { features(nameContains: $nameContains, first: 100) { edges { node { name } } } }
  }
`);

describe.each(databaseKinds)('literal filters and exact weights on %s', (kind) => {
  let server: TestServer;
  let projectId: string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    const created = (await server.data(NewProject, { input: { name: 'literal-filters' } })).createProject;
    if (created.__typename !== 'CreateProjectPayload') throw new Error(JSON.stringify(created));
    projectId = created.project.id;
  });
  afterAll(() => server?.close());

  const createFeature = async (input: { name: string; options?: { key?: string; value: unknown; defaultWeight?: number }[] }) =>
    (await server.data(CreateFeature, { input: { projectId, initialValue: null, ...input } })).createFeature;

  it('matches nameContains as a literal substring: _, % and \\ are no patterns', async () => {
    for (const name of ['a_b', 'axb', 'A_B.c', 'aab', 'x-y']) expect(await createFeature({ name })).toMatchObject({ __typename: 'CreateFeaturePayload' });
    const names = async (nameContains: string) =>
      (await server.data(Features, { id: projectId, nameContains })).project!.features.edges.map((e) => e.node.name).sort();
    expect(await names('a_b')).toEqual(['A_B.c', 'a_b']);
    expect(await names('_')).toEqual(['A_B.c', 'a_b']);
    expect(await names('%')).toEqual([]);
    expect(await names('a%b')).toEqual([]);
    expect(await names('\\')).toEqual([]);
    expect(await names('x-')).toEqual(['x-y']);
    expect(await names('B.C')).toEqual(['A_B.c']);
  });

  it('refuses weights with more than two decimals on every path that writes one, and sums exactly', async () => {
    const invalid = { __typename: 'ValidationError', code: 'INVALID_WEIGHT' };
    expect(await createFeature({ name: 'w_create', options: [{ key: 'a', value: 1, defaultWeight: 33.333 }] })).toMatchObject({
      ...invalid,
      path: ['options', '0', 'defaultWeight'],
    });
    // 100.0000000004 once passed the sum check as "100".
    expect(
      await createFeature({ name: 'w_sum', options: [{ key: 'a', value: 1, defaultWeight: 50 }, { key: 'b', value: 2, defaultWeight: 50.0000000004 }] }),
    ).toMatchObject(invalid);

    const feature = await createFeature({
      name: 'w_ok',
      options: [
        { key: 'a', value: 1, defaultWeight: 33.33 },
        { key: 'b', value: 2, defaultWeight: 33.33 },
        { key: 'c', value: 3, defaultWeight: 33.34 },
      ],
    });
    if (feature.__typename !== 'CreateFeaturePayload') throw new Error(JSON.stringify(feature));
    expect(feature.feature.states.map((s) => s.controlWeight)).toEqual(feature.feature.states.map(() => 0));
    const [a, b] = feature.feature.options;

    expect((await server.data(CreateOption, { input: { featureId: feature.feature.id, value: 4, defaultWeight: 1e-10 } })).createMultivariateOption).toMatchObject({
      ...invalid,
      path: ['defaultWeight'],
    });
    expect((await server.data(UpdateOption, { input: { id: a.id, defaultWeight: 33.3300000001 } })).updateMultivariateOption).toMatchObject({
      ...invalid,
      path: ['defaultWeight'],
    });
    const state = feature.feature.states[0].id;
    expect(
      (await server.data(UpdateState, { input: { id: state, allocations: [{ optionId: a.id, weight: 33.3300000004 }] } })).updateFeatureState,
    ).toMatchObject({ ...invalid, path: ['allocations', '0', 'weight'] });
    // One hundredth over is over, exactly.
    expect((await server.data(UpdateState, { input: { id: state, allocations: [{ optionId: a.id, weight: 33.34 }] } })).updateFeatureState).toMatchObject({
      code: 'WEIGHTS_EXCEED_100',
      total: 100.01,
    });
    const moved = (await server.data(UpdateState, { input: { id: state, allocations: [{ optionId: a.id, weight: 0.1 }, { optionId: b.id, weight: 0.2 }] } }))
      .updateFeatureState;
    expect(moved).toMatchObject({ featureState: { controlWeight: 66.36 } });
  });
});
