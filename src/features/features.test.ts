import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { CreateProject as CreateProjectForFeatures } from '../../test/helpers/documents.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import { databaseId, globalId } from '../../test/helpers/ids.js';

const FeatureFields = `
  id name description initialValue defaultEnabled archivedAt isMultivariate
  options { id key name description value defaultWeight priority archivedAt }
  states { id enabled value effectiveValue environment { id name } weights { key weight overridden } controlWeight }
`;

const CreateFeature = graphql(`
  mutation FeatCreateFeature($input: CreateFeatureInput!) {
    createFeature(input: $input) {
      __typename
      ... on CreateFeaturePayload {
        feature {
          id name description initialValue defaultEnabled archivedAt isMultivariate
          options { id key name description value defaultWeight priority archivedAt }
          states { id enabled value effectiveValue environment { id name } weights { key weight overridden } controlWeight }
        }
      }
      ... on Error { code message }
      ... on VariantKeyError { key path }
      ... on WeightsError { environmentId environmentName total path }
      ... on ValidationError { path }
      ... on NotFoundError { path }
      ... on DuplicateNameError { name path }
    }
  }
`);

const UpdateFeature = graphql(`
  mutation FeatUpdateFeature($input: UpdateFeatureInput!) {
    updateFeature(input: $input) {
      __typename
      ... on UpdateFeaturePayload { feature { id name description initialValue defaultEnabled } }
      ... on Error { code message }
      ... on ValidationError { path }
      ... on NotFoundError { path }
    }
  }
`);

const ArchiveFeature = graphql(`
  mutation FeatArchiveFeature($input: ArchiveFeatureInput!) {
    archiveFeature(input: $input) {
      __typename
      ... on ArchiveFeaturePayload { feature { id name archivedAt } }
      ... on Error { code message }
    }
  }
`);

const CreateOption = graphql(`
  mutation FeatCreateOption($input: CreateMultivariateOptionInput!) {
    createMultivariateOption(input: $input) {
      __typename
      ... on CreateMultivariateOptionPayload { option { id key name value defaultWeight priority feature { name } } }
      ... on Error { code message }
      ... on VariantKeyError { key path }
      ... on WeightsError { environmentId environmentName total path }
      ... on ValidationError { path }
      ... on NotFoundError { path }
    }
  }
`);

const UpdateOption = graphql(`
  mutation FeatUpdateOption($input: UpdateMultivariateOptionInput!) {
    updateMultivariateOption(input: $input) {
      __typename
      ... on UpdateMultivariateOptionPayload { option { id key name description value defaultWeight priority } }
      ... on Error { code message }
      ... on VariantKeyError { key path }
      ... on WeightsError { environmentId environmentName total }
      ... on NotFoundError { path }
    }
  }
`);

const DeleteOption = graphql(`
  mutation FeatDeleteOption($input: DeleteMultivariateOptionInput!) {
    deleteMultivariateOption(input: $input) {
      __typename
      ... on DeleteMultivariateOptionPayload { archived option { id key archivedAt } }
      ... on Error { code message }
    }
  }
`);

const UpdateState = graphql(`
  mutation FeatUpdateState($input: UpdateFeatureStateInput!) {
    updateFeatureState(input: $input) {
      __typename
      ... on UpdateFeatureStatePayload {
        featureState {
          id enabled value effectiveValue environment { name }
          allocations { weight option { key } }
          weights { key weight overridden } controlWeight
        }
      }
      ... on Error { code message }
      ... on WeightsError { environmentId environmentName total path }
      ... on ValidationError { path }
      ... on NotFoundError { path }
    }
  }
`);

const ProjectFeatures = graphql(`
  query FeatProjectFeatures($id: ID!, $name: String, $nameContains: String, $includeArchived: Boolean, $first: Int, $after: String) {
    project(id: $id) {
      environments { id name }
      features(name: $name, nameContains: $nameContains, includeArchived: $includeArchived, first: $first, after: $after) {
        totalCount
        edges { node { id name archivedAt isMultivariate options { key priority } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`);

const Node = graphql(`
  query FeatNode($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on Feature { name options(includeArchived: true) { key archivedAt } }
      ... on MultivariateOption { key value feature { name } }
      ... on FeatureState { enabled environment { name } weights { key weight } controlWeight }
    }
  }
`);

const EnvironmentStates = graphql(`
  query FeatEnvironmentStates($id: ID!, $includeArchived: Boolean) {
    node(id: $id) {
      ... on Environment { featureStates(includeArchived: $includeArchived, first: 500) { edges { node { id enabled feature { name } } } } }
    }
  }
`);

const FeatureStateIn = graphql(`
  query FeatStateIn($id: ID!, $environmentId: ID!) {
    node(id: $id) { ... on Feature { state(environmentId: $environmentId) { id environment { name } } } }
  }
`);

const ProjectsForFeatures = graphql(`
  query FeatProjects {
    projects(first: 100) { edges { node { id name environments { id name key } } } }
  }
`);

const CreateEnvironmentForFeatures = graphql(`
  mutation FeatCreateEnvironment($input: CreateEnvironmentInput!) {
    createEnvironment(input: $input) { __typename }
  }
`);

type Environment = { id: string; name: string; key: string };

/** Narrows a mutation result to its payload, failing with the error it carried instead. */
function ok<T extends { __typename: string }, N extends T['__typename']>(result: T, typename: N): Extract<T, { __typename: N }> {
  if (result.__typename !== typename) throw new Error(`expected ${typename}, got ${JSON.stringify(result)}`);
  return result as Extract<T, { __typename: N }>;
}

describe.each(databaseKinds)('features and multivariate options on %s', (kind) => {
  let server: TestServer;
  let projectId: string;
  let environments: Environment[];
  let otherProject: { id: string; environments: Environment[] };
  const announced: number[][] = [];
  let counter = 0;
  const unique = (prefix: string) => `${prefix}_${++counter}`;

  beforeAll(async () => {
    server = await startTestServer(kind);
    server.services.configChanges.subscribe((ids) => {
      if (ids) announced.push(ids);
    });
    const { projects } = await server.data(ProjectsForFeatures, {});
    const demo = projects.edges.find((edge) => edge.node.name === 'Demo')!.node;
    projectId = demo.id;
    environments = demo.environments;
    const other = await server.data(CreateProjectForFeatures, { input: { name: 'Other' } });
    if (!other.createProject || !('project' in other.createProject)) throw new Error('no project');
    otherProject = other.createProject.project;
  });
  afterAll(() => server?.close());

  async function createFeature(input: Record<string, unknown>) {
    return (await server.data(CreateFeature, { input: { projectId, ...input } as never })).createFeature;
  }
  async function newFeature(options: Record<string, unknown>[] = [], extra: Record<string, unknown> = {}) {
    return ok(await createFeature({ name: unique('feature'), options, ...extra }), 'CreateFeaturePayload').feature;
  }
  async function createOption(input: Record<string, unknown>) {
    return (await server.data(CreateOption, { input: input as never })).createMultivariateOption;
  }
  async function updateOption(input: Record<string, unknown>) {
    return (await server.data(UpdateOption, { input: input as never })).updateMultivariateOption;
  }
  async function updateState(input: Record<string, unknown>) {
    return (await server.data(UpdateState, { input: input as never })).updateFeatureState;
  }
  async function optionCount(featureGlobalId: string) {
    return server.services.prisma.multivariateOption.count({ where: { featureId: databaseId(featureGlobalId) } });
  }
  /** Records an exposure row directly, as the exposure log will (SPEC.md section 5). */
  async function exposeRow(featureGlobalId: string, variantKey: string, optionGlobalId?: string) {
    const environmentId = databaseId(environments[0].id);
    const identity = await server.services.prisma.identity.create({ data: { environmentId, identifier: unique('user') } });
    await server.services.prisma.exposure.create({
      data: {
        environmentId,
        featureId: databaseId(featureGlobalId),
        optionId: optionGlobalId ? databaseId(optionGlobalId) : null,
        variantKey,
        identityId: identity.id,
        exposedAt: new Date(),
        source: 'CLIENT',
        matchesAssignment: true,
      },
    });
  }

  it('creates a feature with three keyed variants, a state per environment, and reads it all back', async () => {
    announced.length = 0;
    const result = await createFeature({
      name: 'button_colour',
      description: '  Colour of the buy button  ',
      initialValue: { colour: 'grey' },
      defaultEnabled: true,
      options: [
        { key: ' red ', name: 'Red', value: { colour: 'red' }, defaultWeight: 30 },
        { key: 'green', value: { colour: 'green' }, defaultWeight: 30 },
        { key: 'blue.v2', value: { colour: 'blue' }, defaultWeight: 30 },
      ],
    });
    const feature = ok(result, 'CreateFeaturePayload').feature;
    expect(feature).toMatchObject({
      name: 'button_colour',
      description: 'Colour of the buy button',
      initialValue: { colour: 'grey' },
      defaultEnabled: true,
      isMultivariate: true,
      archivedAt: null,
    });
    expect(feature.options.map((o) => [o.key, o.priority, o.defaultWeight])).toEqual([
      ['red', 1, 30],
      ['green', 2, 30],
      ['blue.v2', 3, 30],
    ]);
    expect(feature.states.map((s) => s.environment.name)).toEqual(['development', 'production']);
    for (const state of feature.states) {
      expect(state).toMatchObject({ enabled: true, value: null, effectiveValue: { colour: 'grey' }, controlWeight: 10 });
      expect(state.weights).toEqual([
        { key: 'red', weight: 30, overridden: false },
        { key: 'green', weight: 30, overridden: false },
        { key: 'blue.v2', weight: 30, overridden: false },
      ]);
    }
    expect(announced).toEqual([environments.map((e) => databaseId(e.id))]);

    const listed = await server.data(ProjectFeatures, { id: projectId, name: 'button_colour' });
    expect(listed.project?.features.edges).toEqual([
      {
        node: {
          id: feature.id,
          name: 'button_colour',
          archivedAt: null,
          isMultivariate: true,
          options: [
            { key: 'red', priority: 1 },
            { key: 'green', priority: 2 },
            { key: 'blue.v2', priority: 3 },
          ],
        },
      },
    ]);
    const byNode = await server.data(Node, { id: feature.id });
    expect(byNode.node).toMatchObject({ __typename: 'Feature', name: 'button_colour' });
    const optionNode = await server.data(Node, { id: feature.options[1].id });
    expect(optionNode.node).toMatchObject({ __typename: 'MultivariateOption', key: 'green', value: { colour: 'green' }, feature: { name: 'button_colour' } });
    const stateNode = await server.data(Node, { id: feature.states[1].id });
    expect(stateNode.node).toMatchObject({ __typename: 'FeatureState', environment: { name: 'production' }, controlWeight: 10 });
    const stateIn = await server.data(FeatureStateIn, { id: feature.id, environmentId: environments[1].id });
    expect(stateIn.node).toMatchObject({ state: { id: feature.states[1].id, environment: { name: 'production' } } });
    const states = await server.data(EnvironmentStates, { id: environments[0].id });
    expect(states.node && 'featureStates' in states.node ? states.node.featureStates.edges.map((e) => e.node.feature.name) : []).toContain(
      'button_colour',
    );
  });

  it('stores blank keys as null and allows several unkeyed options on one feature', async () => {
    const feature = await newFeature([{ key: '   ', value: 1 }, { key: '', value: 2 }, { value: 3 }, { key: null, value: 4 }]);
    expect(feature.options.map((o) => o.key)).toEqual([null, null, null, null]);
    const rows = await server.services.prisma.multivariateOption.findMany({ where: { featureId: databaseId(feature.id) } });
    expect(rows.map((r) => r.key)).toEqual([null, null, null, null]);
    const more = await createOption({ featureId: feature.id, key: ' \t ', value: 5 });
    expect(ok(more, 'CreateMultivariateOptionPayload').option.key).toBeNull();
  });

  it('refuses malformed and oversized keys with INVALID_VARIANT_KEY, and accepts 100 characters', async () => {
    const feature = await newFeature();
    for (const key of ['-a', '_a', '.a', 'a b', 'a/b', 'ä', 'a'.repeat(101), `${'a'.repeat(100)}   x`]) {
      const result = await createOption({ featureId: feature.id, key, value: 1 });
      expect(result, key).toMatchObject({ __typename: 'VariantKeyError', code: 'INVALID_VARIANT_KEY', path: ['key'] });
    }
    const huge = await createOption({ featureId: feature.id, key: 'b'.repeat(100_000), value: 1 });
    expect(huge).toMatchObject({ code: 'INVALID_VARIANT_KEY' });
    expect((huge as { key: string }).key.length).toBeLessThan(200);
    expect(await optionCount(feature.id)).toBe(0);

    const longest = await createOption({ featureId: feature.id, key: `  ${'x'.repeat(100)}  `, value: 1 });
    expect(ok(longest, 'CreateMultivariateOptionPayload').option.key).toBe('x'.repeat(100));
    const digits = await createOption({ featureId: feature.id, key: '2024.Q1-b_c', value: 1 });
    expect(ok(digits, 'CreateMultivariateOptionPayload').option.key).toBe('2024.Q1-b_c');
  });

  it('reserves `control` in any case on every write path', async () => {
    const feature = await newFeature([{ key: 'a', value: 1 }]);
    for (const key of ['control', 'CONTROL', ' Control ']) {
      const created = await createOption({ featureId: feature.id, key, value: 1 });
      expect(created).toMatchObject({ __typename: 'VariantKeyError', code: 'RESERVED_VARIANT_KEY', key: key.trim(), path: ['key'] });
    }
    const updated = await updateOption({ id: feature.options[0].id, key: 'Control' });
    expect(updated).toMatchObject({ code: 'RESERVED_VARIANT_KEY' });
    const nested = await createFeature({ name: unique('nested_control'), options: [{ key: 'x', value: 1 }, { key: 'control', value: 2 }] });
    expect(nested).toMatchObject({ code: 'RESERVED_VARIANT_KEY', path: ['options', '1', 'key'] });
    // A key that merely contains the word is fine.
    const near = await createOption({ featureId: feature.id, key: 'control2', value: 1 });
    expect(near).toMatchObject({ __typename: 'CreateMultivariateOptionPayload' });
  });

  it('keeps keys unique per feature, archived options included, and allows the same key on another feature', async () => {
    const feature = await newFeature([{ key: 'a', value: 1 }, { key: 'b', value: 2 }]);
    const duplicate = await createOption({ featureId: feature.id, key: ' a ', value: 3 });
    expect(duplicate).toMatchObject({ __typename: 'VariantKeyError', code: 'DUPLICATE_VARIANT_KEY', key: 'a', path: ['key'] });
    const renamed = await updateOption({ id: feature.options[1].id, key: 'a' });
    expect(renamed).toMatchObject({ code: 'DUPLICATE_VARIANT_KEY', key: 'a' });

    // Archive "b" through an exposure + delete: its key stays taken.
    await exposeRow(feature.id, 'b', feature.options[1].id);
    const deleted = (await server.data(DeleteOption, { input: { id: feature.options[1].id } })).deleteMultivariateOption;
    expect(deleted).toMatchObject({ archived: true });
    const reuse = await createOption({ featureId: feature.id, key: 'b', value: 3 });
    expect(reuse).toMatchObject({ code: 'DUPLICATE_VARIANT_KEY', key: 'b' });
    const reuseByUpdate = await updateOption({ id: feature.options[0].id, key: 'b' });
    expect(reuseByUpdate).toMatchObject({ code: 'DUPLICATE_VARIANT_KEY' });

    const other = await newFeature([{ key: 'a', value: 1 }, { key: 'b', value: 2 }]);
    expect(other.options.map((o) => o.key)).toEqual(['a', 'b']);
    expect(await optionCount(feature.id)).toBe(2);
  });

  it('writes nothing when a nested create repeats a key or breaks any rule', async () => {
    const name = unique('nested');
    const duplicate = await createFeature({
      name,
      options: [
        { key: 'x', value: 1 },
        { key: 'y', value: 2 },
        { key: ' x', value: 3 },
      ],
    });
    expect(duplicate).toMatchObject({ __typename: 'VariantKeyError', code: 'DUPLICATE_VARIANT_KEY', key: 'x', path: ['options', '2', 'key'] });
    const invalid = await createFeature({ name, options: [{ key: 'ok', value: 1 }, { key: 'not ok', value: 2 }] });
    expect(invalid).toMatchObject({ code: 'INVALID_VARIANT_KEY', path: ['options', '1', 'key'] });
    const weights = await createFeature({ name, options: [{ key: 'p', value: 1, defaultWeight: 60 }, { key: 'q', value: 2, defaultWeight: 41 }] });
    expect(weights).toMatchObject({ __typename: 'WeightsError', code: 'WEIGHTS_EXCEED_100', total: 101 });
    const weight = await createFeature({ name, options: [{ key: 'p', value: 1, defaultWeight: 100.5 }] });
    expect(weight).toMatchObject({ code: 'INVALID_WEIGHT', path: ['options', '0', 'defaultWeight'] });

    const many = await createFeature({ name, options: Array.from({ length: 101 }, (_, i) => ({ key: `k${i}`, value: i })) });
    expect(many).toMatchObject({ code: 'INVALID_INPUT', path: ['options'] });

    const listed = await server.data(ProjectFeatures, { id: projectId, name, includeArchived: true });
    expect(listed.project?.features.edges).toEqual([]);
    expect(await server.services.prisma.feature.count({ where: { name } })).toBe(0);
    expect(await server.services.prisma.multivariateOption.count({ where: { key: { in: ['x', 'y', 'ok', 'p', 'q'] }, feature: { name } } })).toBe(0);

    const fine = await createFeature({ name, options: [{ key: 'x', value: 1 }, { key: 'y', value: 2 }] });
    expect(fine).toMatchObject({ __typename: 'CreateFeaturePayload' });
  });

  it('updates keys: null to a value, a value to another, a value to null, until an exposure names the key', async () => {
    const feature = await newFeature([{ value: 'first' }, { key: 'second', value: 'second' }]);
    const [unkeyed, keyed] = feature.options;

    const set = await updateOption({ id: unkeyed.id, key: ' one ' });
    expect(ok(set, 'UpdateMultivariateOptionPayload').option.key).toBe('one');
    const changed = await updateOption({ id: unkeyed.id, key: 'uno' });
    expect(ok(changed, 'UpdateMultivariateOptionPayload').option.key).toBe('uno');
    const cleared = await updateOption({ id: unkeyed.id, key: null });
    expect(ok(cleared, 'UpdateMultivariateOptionPayload').option.key).toBeNull();
    const blanked = await updateOption({ id: keyed.id, key: '  ' });
    expect(ok(blanked, 'UpdateMultivariateOptionPayload').option.key).toBeNull();
    const back = await updateOption({ id: keyed.id, key: 'second' });
    expect(ok(back, 'UpdateMultivariateOptionPayload').option.key).toBe('second');
    // Leaving key out keeps it.
    const other = await updateOption({ id: keyed.id, name: 'Second', value: [1, 2] });
    expect(ok(other, 'UpdateMultivariateOptionPayload').option).toMatchObject({ key: 'second', name: 'Second', value: [1, 2] });

    await exposeRow(feature.id, 'second');
    const change = await updateOption({ id: keyed.id, key: 'zweite' });
    expect(change).toMatchObject({ __typename: 'VariantKeyError', code: 'VARIANT_KEY_IN_USE', key: 'second', path: ['key'] });
    const clear = await updateOption({ id: keyed.id, key: null });
    expect(clear).toMatchObject({ code: 'VARIANT_KEY_IN_USE' });
    const blank = await updateOption({ id: keyed.id, key: '' });
    expect(blank).toMatchObject({ code: 'VARIANT_KEY_IN_USE' });
    // The same key again, and other fields, are fine.
    const same = await updateOption({ id: keyed.id, key: ' second ', description: 'still here' });
    expect(ok(same, 'UpdateMultivariateOptionPayload').option).toMatchObject({ key: 'second', description: 'still here' });
    // A key may still be set on the option that had none.
    const late = await updateOption({ id: unkeyed.id, key: 'first' });
    expect(ok(late, 'UpdateMultivariateOptionPayload').option.key).toBe('first');
    const row = await server.services.prisma.multivariateOption.findUniqueOrThrow({ where: { id: databaseId(keyed.id) } });
    expect(row.key).toBe('second');
  });

  it('deletes an option without exposures and archives one with exposures', async () => {
    const feature = await newFeature([
      { key: 'gone', value: 1, defaultWeight: 10 },
      { key: 'kept', value: 2, defaultWeight: 10 },
      { key: 'by_ref', value: 3, defaultWeight: 10 },
    ]);
    const [gone, kept, byRef] = feature.options;
    const allocated = await updateState({ id: feature.states[0].id, allocations: [{ optionId: gone.id, weight: 50 }] });
    expect(allocated).toMatchObject({ __typename: 'UpdateFeatureStatePayload' });

    announced.length = 0;
    const deleted = (await server.data(DeleteOption, { input: { id: gone.id } })).deleteMultivariateOption;
    expect(deleted).toMatchObject({ __typename: 'DeleteMultivariateOptionPayload', archived: false, option: { key: 'gone', archivedAt: null } });
    expect(announced).toHaveLength(1);
    expect((await server.data(Node, { id: gone.id })).node).toBeNull();
    expect(await server.services.prisma.variantAllocation.count({ where: { optionId: databaseId(gone.id) } })).toBe(0);
    // A deleted option's key is free again.
    expect(await createOption({ featureId: feature.id, key: 'gone', value: 9 })).toMatchObject({
      __typename: 'CreateMultivariateOptionPayload',
    });

    await exposeRow(feature.id, 'kept');
    // Referenced by id, as the server writes them (an exposure names its option's key too).
    await exposeRow(feature.id, 'by_ref', byRef.id);
    for (const option of [kept, byRef]) {
      const archived = (await server.data(DeleteOption, { input: { id: option.id } })).deleteMultivariateOption;
      expect(archived).toMatchObject({ archived: true, option: { id: option.id } });
      expect((archived as { option: { archivedAt: string | null } }).option.archivedAt).not.toBeNull();
    }
    const again = (await server.data(DeleteOption, { input: { id: kept.id } })).deleteMultivariateOption;
    expect(again).toMatchObject({ archived: true });

    const read = await server.data(ProjectFeatures, { id: projectId, name: feature.name });
    expect(read.project?.features.edges[0].node.options.map((o) => o.key)).toEqual(['gone']);
    const all = await server.data(Node, { id: feature.id });
    expect(all.node && 'options' in all.node ? all.node.options.map((o) => [o.key, o.archivedAt !== null]) : []).toEqual([
      ['kept', true],
      ['by_ref', true],
      ['gone', false],
    ]);
    const missing = (await server.data(DeleteOption, { input: { id: gone.id } })).deleteMultivariateOption;
    expect(missing).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('keeps effective weights per environment at most 100, with allocations', async () => {
    const feature = await newFeature([
      { key: 'a', value: 'A', defaultWeight: 40 },
      { key: 'b', value: 'B', defaultWeight: 40 },
    ]);
    const [a, b] = feature.options;
    const [development, production] = feature.states;

    const tooMuch = await createOption({ featureId: feature.id, key: 'c', value: 'C', defaultWeight: 20.5 });
    expect(tooMuch).toMatchObject({ __typename: 'WeightsError', code: 'WEIGHTS_EXCEED_100', total: 100.5, environmentName: 'development' });
    const c = ok(await createOption({ featureId: feature.id, key: 'c', value: 'C', defaultWeight: 20 }), 'CreateMultivariateOptionPayload').option;
    expect(c.priority).toBe(3);

    // Production moves to 50/50/0; development keeps its defaults.
    announced.length = 0;
    const moved = await updateState({
      environmentId: environments[1].id,
      featureId: feature.id,
      allocations: [
        { optionId: a.id, weight: 50 },
        { optionId: b.id, weight: 50 },
        { optionId: c.id, weight: 0 },
      ],
    });
    expect(ok(moved, 'UpdateFeatureStatePayload').featureState).toMatchObject({
      environment: { name: 'production' },
      weights: [
        { key: 'a', weight: 50, overridden: true },
        { key: 'b', weight: 50, overridden: true },
        { key: 'c', weight: 0, overridden: true },
      ],
      controlWeight: 0,
    });
    expect(announced).toEqual([[databaseId(environments[1].id)]]);

    // Raising a default now breaks development only (production overrides every option).
    const raise = await updateOption({ id: a.id, defaultWeight: 41 });
    expect(raise).toMatchObject({ code: 'WEIGHTS_EXCEED_100', environmentName: 'development', total: 101 });
    const overProduction = await updateState({ id: production.id, allocations: [{ optionId: c.id, weight: 0.5 }] });
    expect(overProduction).toMatchObject({
      __typename: 'WeightsError',
      environmentId: environments[1].id,
      environmentName: 'production',
      total: 100.5,
      path: ['allocations'],
    });
    // Development at 33.3 + 33.3 + 33.4: exactly 100 despite float sums.
    const thirds = await updateState({
      id: development.id,
      allocations: [
        { optionId: a.id, weight: 33.3 },
        { optionId: b.id, weight: 33.3 },
        { optionId: c.id, weight: 33.4 },
      ],
    });
    expect(ok(thirds, 'UpdateFeatureStatePayload').featureState.controlWeight).toBe(0);
    // With every environment overriding, the defaults alone still may not exceed 100.
    const defaults = await updateOption({ id: a.id, defaultWeight: 45 });
    expect(defaults).toMatchObject({ code: 'WEIGHTS_EXCEED_100', environmentId: null, total: 105 });

    // Removing an override falls back to defaultWeight.
    const reset = await updateState({ id: production.id, allocations: [{ optionId: a.id, weight: null }, { optionId: b.id, weight: 10 }] });
    expect(ok(reset, 'UpdateFeatureStatePayload').featureState.weights).toEqual([
      { key: 'a', weight: 40, overridden: false },
      { key: 'b', weight: 10, overridden: true },
      { key: 'c', weight: 0, overridden: true },
    ]);

    for (const weight of [-1, 100.01, 1e9]) {
      const invalid = await updateState({ id: production.id, allocations: [{ optionId: a.id, weight }] });
      expect(invalid).toMatchObject({ code: 'INVALID_WEIGHT', path: ['allocations', '0', 'weight'] });
      const invalidDefault = await createOption({ featureId: feature.id, value: 1, defaultWeight: weight });
      expect(invalidDefault).toMatchObject({ code: 'INVALID_WEIGHT', path: ['defaultWeight'] });
    }
    const twice = await updateState({ id: production.id, allocations: [{ optionId: a.id, weight: 1 }, { optionId: a.id, weight: 2 }] });
    expect(twice).toMatchObject({ code: 'INVALID_INPUT', path: ['allocations', '1', 'optionId'] });

    // An option of another feature is NOT_FOUND here; nothing of the input is written.
    const stranger = await newFeature([{ key: 'z', value: 1 }]);
    const foreign = await updateState({
      id: production.id,
      enabled: true,
      allocations: [{ optionId: b.id, weight: 5 }, { optionId: stranger.options[0].id, weight: 1 }],
    });
    expect(foreign).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND', path: ['allocations', '1', 'optionId'] });
    const productionRow = await server.services.prisma.featureState.findUniqueOrThrow({ where: { id: databaseId(production.id) }, include: { allocations: true } });
    expect(productionRow.enabled).toBe(false);
    expect(productionRow.allocations.find((x) => x.optionId === databaseId(b.id))?.weight).toBe(10);
  });

  it('ignores archived options in weight sums and refuses allocations for them', async () => {
    const feature = await newFeature([
      { key: 'old', value: 1, defaultWeight: 70 },
      { key: 'new', value: 2, defaultWeight: 30 },
    ]);
    await exposeRow(feature.id, 'old');
    expect((await server.data(DeleteOption, { input: { id: feature.options[0].id } })).deleteMultivariateOption).toMatchObject({ archived: true });
    const more = await createOption({ featureId: feature.id, key: 'newer', value: 3, defaultWeight: 70 });
    expect(more).toMatchObject({ __typename: 'CreateMultivariateOptionPayload' });
    const toArchived = await updateState({ id: feature.states[0].id, allocations: [{ optionId: feature.options[0].id, weight: 0 }] });
    expect(toArchived).toMatchObject({ code: 'NOT_FOUND', path: ['allocations', '0', 'optionId'] });
  });

  it('sets enabled and value per environment; null inherits the initial value', async () => {
    const feature = await newFeature([], { initialValue: 'base' });
    const [development, production] = feature.states;
    const set = await updateState({ id: production.id, enabled: true, value: { limit: 5 } });
    expect(ok(set, 'UpdateFeatureStatePayload').featureState).toMatchObject({ enabled: true, value: { limit: 5 }, effectiveValue: { limit: 5 } });
    const untouched = await server.data(Node, { id: development.id });
    expect(untouched.node).toMatchObject({ enabled: false });
    const inherit = await updateState({ id: production.id, value: null });
    expect(ok(inherit, 'UpdateFeatureStatePayload').featureState).toMatchObject({ enabled: true, value: null, effectiveValue: 'base' });
    const keep = await updateState({ id: production.id, enabled: false });
    expect(ok(keep, 'UpdateFeatureStatePayload').featureState).toMatchObject({ enabled: false, value: null });
    // The state is updated in place: its id (the hashing key) never changes.
    expect(ok(keep, 'UpdateFeatureStatePayload').featureState.id).toBe(production.id);
    const both = await updateState({ id: production.id, environmentId: environments[1].id, featureId: feature.id });
    expect(both).toMatchObject({ code: 'INVALID_INPUT' });
    const neither = await updateState({ enabled: true });
    expect(neither).toMatchObject({ code: 'INVALID_INPUT' });
    const crossed = await updateState({ environmentId: otherProject.environments[0].id, featureId: feature.id, enabled: true });
    expect(crossed).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('accepts JSON values of every type', async () => {
    const values = [{ a: [1, { b: null }] }, [1, 'two', false], 42, -0.5, 'text', true, null];
    const feature = await newFeature(
      values.map((value) => ({ value })),
      { initialValue: null },
    );
    expect(feature.initialValue).toBeNull();
    expect(feature.options.map((o) => o.value)).toEqual(values);
    for (const value of values) {
      const updated = (await server.data(UpdateFeature, { input: { id: feature.id, initialValue: value } })).updateFeature;
      expect(ok(updated, 'UpdateFeaturePayload').feature.initialValue).toEqual(value);
    }
    const omitted = ok(await createOption({ featureId: feature.id }), 'CreateMultivariateOptionPayload').option;
    expect(omitted.value).toBeNull();
  });

  it('validates feature names, descriptions and option names', async () => {
    for (const name of ['', '   ', 'has space', 'ümlaut', 'a/b', 'x'.repeat(151)]) {
      expect(await createFeature({ name }), name).toMatchObject({ __typename: 'ValidationError', code: 'INVALID_FEATURE_NAME', path: ['name'] });
    }
    const longest = 'n'.repeat(150);
    expect(await createFeature({ name: ` ${longest} ` })).toMatchObject({ feature: { name: longest } });
    expect(await createFeature({ name: 'A-b.c_9' })).toMatchObject({ feature: { name: 'A-b.c_9' } });
    const taken = await createFeature({ name: 'A-b.c_9' });
    expect(taken).toMatchObject({ __typename: 'DuplicateNameError', code: 'DUPLICATE_FEATURE_NAME', name: 'A-b.c_9', path: ['name'] });
    // Names are per project.
    const elsewhere = (await server.data(CreateFeature, { input: { projectId: otherProject.id, name: 'A-b.c_9' } })).createFeature;
    expect(elsewhere).toMatchObject({ __typename: 'CreateFeaturePayload' });

    const description = await createFeature({ name: unique('described'), description: 'd'.repeat(2001) });
    expect(description).toMatchObject({ code: 'INVALID_INPUT', path: ['description'] });
    const optionName = await createFeature({ name: unique('named'), options: [{ name: 'o'.repeat(201), value: 1 }] });
    expect(optionName).toMatchObject({ code: 'INVALID_INPUT', path: ['options', '0', 'name'] });

    const feature = await newFeature();
    const rename = (await server.data(UpdateFeature, { input: { id: feature.id, name: 'A-b.c_9' } })).updateFeature;
    expect(rename).toMatchObject({ code: 'DUPLICATE_FEATURE_NAME' });
    const invalid = (await server.data(UpdateFeature, { input: { id: feature.id, name: 'no way' } })).updateFeature;
    expect(invalid).toMatchObject({ code: 'INVALID_FEATURE_NAME' });
    const renamed = (await server.data(UpdateFeature, { input: { id: feature.id, name: unique('renamed'), description: ' new ', defaultEnabled: true } }))
      .updateFeature;
    expect(renamed).toMatchObject({ feature: { description: 'new', defaultEnabled: true } });
    const cleared = (await server.data(UpdateFeature, { input: { id: feature.id, description: null } })).updateFeature;
    expect(cleared).toMatchObject({ feature: { description: null } });
  });

  it('archives features idempotently, hides them by default, and keeps their names taken', async () => {
    const feature = await newFeature([{ key: 'v', value: 1 }]);
    const first = ok((await server.data(ArchiveFeature, { input: { id: feature.id } })).archiveFeature, 'ArchiveFeaturePayload').feature;
    expect(first.archivedAt).not.toBeNull();
    const second = ok((await server.data(ArchiveFeature, { input: { id: feature.id } })).archiveFeature, 'ArchiveFeaturePayload').feature;
    expect(second.archivedAt).toBe(first.archivedAt);

    const hidden = await server.data(ProjectFeatures, { id: projectId, name: feature.name });
    expect(hidden.project?.features.edges).toEqual([]);
    const shown = await server.data(ProjectFeatures, { id: projectId, name: feature.name, includeArchived: true });
    expect(shown.project?.features.edges.map((e) => e.node.name)).toEqual([feature.name]);
    const states = await server.data(EnvironmentStates, { id: environments[0].id });
    const names = states.node && 'featureStates' in states.node ? states.node.featureStates.edges.map((e) => e.node.feature.name) : [];
    expect(names).not.toContain(feature.name);
    expect(await createFeature({ name: feature.name })).toMatchObject({ code: 'DUPLICATE_FEATURE_NAME' });

    const restored = ok((await server.data(ArchiveFeature, { input: { id: feature.id, archived: false } })).archiveFeature, 'ArchiveFeaturePayload');
    expect(restored.feature.archivedAt).toBeNull();
    const back = await server.data(ProjectFeatures, { id: projectId, name: feature.name });
    expect(back.project?.features.edges).toHaveLength(1);
  });

  it('lists features as a connection filtered by name', async () => {
    const prefix = unique('Listing');
    for (const suffix of ['one', 'two', 'three']) await newFeature([], { name: `${prefix}_${suffix}` });
    const page = await server.data(ProjectFeatures, { id: projectId, nameContains: prefix.toLowerCase(), first: 2 });
    expect(page.project?.features.totalCount).toBe(3);
    expect(page.project?.features.edges.map((e) => e.node.name)).toEqual([`${prefix}_one`, `${prefix}_two`]);
    expect(page.project?.features.pageInfo.hasNextPage).toBe(true);
    const rest = await server.data(ProjectFeatures, {
      id: projectId,
      nameContains: prefix,
      first: 2,
      after: page.project?.features.pageInfo.endCursor,
    });
    expect(rest.project?.features.edges.map((e) => e.node.name)).toEqual([`${prefix}_three`]);
    const exact = await server.data(ProjectFeatures, { id: projectId, name: `${prefix}_two` });
    expect(exact.project?.features.edges.map((e) => e.node.name)).toEqual([`${prefix}_two`]);
  });

  it('answers NOT_FOUND for ids that do not exist, are of another type, or are malformed', async () => {
    const feature = await newFeature([{ key: 'k', value: 1 }]);
    const missingFeature = globalId('Feature', 99_999_999);
    const badIds = [missingFeature, projectId, 'not-an-id', globalId('Feature', -1), globalId('Feature', 1.5)];
    for (const id of badIds) {
      expect(await createOption({ featureId: id, key: 'k2', value: 1 }), id).toMatchObject({ code: 'NOT_FOUND', path: ['featureId'] });
      expect((await server.data(UpdateFeature, { input: { id, name: 'x' } })).updateFeature).toMatchObject({ code: 'NOT_FOUND' });
      expect((await server.data(ArchiveFeature, { input: { id } })).archiveFeature).toMatchObject({ code: 'NOT_FOUND' });
      expect(await updateOption({ id, key: 'x' })).toMatchObject({ code: 'NOT_FOUND' });
      expect((await server.data(DeleteOption, { input: { id } })).deleteMultivariateOption).toMatchObject({ code: 'NOT_FOUND' });
      expect(await updateState({ id, enabled: true })).toMatchObject({ code: 'NOT_FOUND' });
    }
    expect(await createFeature({ projectId: globalId('Project', 99_999_999), name: unique('nowhere') })).toMatchObject({
      code: 'NOT_FOUND',
      path: ['projectId'],
    });
    expect(await createFeature({ projectId: feature.id, name: unique('nowhere') })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await updateOption({ id: feature.id, key: 'x' })).toMatchObject({ code: 'NOT_FOUND', path: ['id'] });
    expect((await server.data(Node, { id: missingFeature })).node).toBeNull();
  });

  it('gives exactly one option and nine DUPLICATE_VARIANT_KEY for ten concurrent creates of one key', async () => {
    const feature = await newFeature();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => server.request(CreateOption, { input: { featureId: feature.id, key: 'race', value: i } })),
    );
    for (const result of results) {
      expect(result.errors).toBeUndefined();
      expect(result.status).toBe(200);
    }
    const typenames = results.map((result) => result.data?.createMultivariateOption.__typename);
    expect(typenames.filter((t) => t === 'CreateMultivariateOptionPayload')).toHaveLength(1);
    const duplicates = results.map((r) => r.data?.createMultivariateOption).filter((r) => r?.__typename === 'VariantKeyError');
    expect(duplicates).toHaveLength(9);
    for (const duplicate of duplicates) expect(duplicate).toMatchObject({ code: 'DUPLICATE_VARIANT_KEY', key: 'race' });
    expect(await server.services.prisma.multivariateOption.count({ where: { featureId: databaseId(feature.id), key: 'race' } })).toBe(1);
  });

  it('serialises concurrent writes on one feature: weights and priorities hold under races', async () => {
    const feature = await newFeature();
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, i) => createOption({ featureId: feature.id, key: `w${i}`, value: i, defaultWeight: 40 })),
    );
    expect(results.filter((r) => r.__typename === 'CreateMultivariateOptionPayload')).toHaveLength(2);
    expect(results.filter((r) => r.__typename === 'WeightsError')).toHaveLength(2);
    const more = await Promise.all(Array.from({ length: 5 }, (_, i) => createOption({ featureId: feature.id, value: i })));
    expect(more.every((r) => r.__typename === 'CreateMultivariateOptionPayload')).toBe(true);
    const rows = await server.services.prisma.multivariateOption.findMany({ where: { featureId: databaseId(feature.id) }, orderBy: { id: 'asc' } });
    expect(rows.map((r) => r.priority)).toEqual([1, 2, 3, 4, 5, 6, 7]);

    const names = await Promise.all(Array.from({ length: 5 }, () => server.request(CreateFeature, { input: { projectId, name: 'racing_name' } })));
    expect(names.every((r) => r.errors === undefined)).toBe(true);
    const made = names.map((r) => r.data?.createFeature.__typename);
    expect(made.filter((t) => t === 'CreateFeaturePayload')).toHaveLength(1);
    expect(names.filter((r) => r.data?.createFeature && 'code' in r.data.createFeature && r.data.createFeature.code === 'DUPLICATE_FEATURE_NAME')).toHaveLength(4);
  });

  it('gives every (environment, feature) pair a state when features and environments are created concurrently', async () => {
    const made = await server.data(CreateProjectForFeatures, { input: { name: unique('Concurrent') } });
    if (!made.createProject || !('project' in made.createProject)) throw new Error('no project');
    const project = made.createProject.project;
    const results = await Promise.all([
      ...Array.from({ length: 4 }, (_, i) =>
        server.data(CreateFeature, { input: { projectId: project.id, name: `f${i}`, options: [{ key: 'v', value: i }] } }),
      ),
      ...Array.from({ length: 3 }, (_, i) => server.data(CreateEnvironmentForFeatures, { input: { projectId: project.id, name: `env${i}` } })),
    ]);
    expect(results.every((r) => Object.values(r)[0].__typename.endsWith('Payload'))).toBe(true);
    const projectRow = databaseId(project.id);
    const features = await server.services.prisma.feature.count({ where: { projectId: projectRow } });
    const envs = await server.services.prisma.environment.count({ where: { projectId: projectRow } });
    expect([features, envs]).toEqual([4, 5]);
    const states = await server.services.prisma.featureState.count({ where: { feature: { projectId: projectRow } } });
    expect(states).toBe(features * envs);
  });

  it('maps the unique index itself to DUPLICATE_VARIANT_KEY (the final guard)', async () => {
    const { checkVariantKeyWrites } = await import('./service.js');
    const { isVariantKeyUniqueViolation } = await import('./store.js');
    const feature = await newFeature([{ key: 'guarded', value: 1 }]);
    const prisma = server.services.prisma;
    const error = await prisma.multivariateOption
      .create({ data: { featureId: databaseId(feature.id), key: 'guarded', value: 2, priority: 9 } })
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeDefined();
    expect(isVariantKeyUniqueViolation(error)).toBe(true);
    const nameError = await prisma.feature
      .create({ data: { projectId: databaseId(projectId), name: feature.name, initialValue: 1 } })
      .then(() => undefined, (e: unknown) => e);
    expect(nameError).toBeDefined();
    expect(isVariantKeyUniqueViolation(nameError)).toBe(false);

    // A writer that slipped a key in after the check (what the feature lock prevents) meets the index,
    // and the check's own mapping turns that into the typed error.
    const featureId = databaseId(feature.id);
    const checked = await prisma.$transaction((tx) => checkVariantKeyWrites(tx, featureId, [{ raw: ' late ', path: ['key'] }]));
    expect(checked.keys).toEqual(['late']);
    await prisma.multivariateOption.create({ data: { featureId, key: 'late', value: 1, priority: 10 } });
    const late = await prisma.multivariateOption
      .create({ data: { featureId, key: checked.keys[0], value: 2, priority: 11 } })
      .then(() => undefined, (e: unknown) => e);
    expect(checked.duplicateFrom(late)).toMatchObject({ code: 'DUPLICATE_VARIANT_KEY', key: 'late', path: ['key'] });
    expect(checked.duplicateFrom(nameError)).toBeUndefined();
  });

  it('lets only admin tokens write: clients and analytics get FORBIDDEN, no credentials UNAUTHENTICATED', async () => {
    const feature = await newFeature([{ key: 'k', value: 1 }]);
    const client = { environmentKey: environments[0].key };
    const analytics = { token: server.analyticsToken };
    const writes = [
      () => [CreateFeature, { input: { projectId, name: unique('nope') } }],
      () => [UpdateFeature, { input: { id: feature.id, name: unique('nope') } }],
      () => [ArchiveFeature, { input: { id: feature.id } }],
      () => [CreateOption, { input: { featureId: feature.id, key: 'nope', value: 1 } }],
      () => [UpdateOption, { input: { id: feature.options[0].id, key: 'nope' } }],
      () => [DeleteOption, { input: { id: feature.options[0].id } }],
      () => [UpdateState, { input: { id: feature.states[0].id, enabled: true } }],
    ] as const;
    for (const write of writes) {
      const [document, variables] = write();
      for (const [who, code] of [
        [client, 'FORBIDDEN'],
        [analytics, 'FORBIDDEN'],
        [{}, 'UNAUTHENTICATED'],
      ] as const) {
        const result = await server.request(document as never, variables as never, who);
        expect(result.errors?.[0]?.extensions?.code, `${JSON.stringify(variables)} as ${JSON.stringify(who)}: ${JSON.stringify(result).slice(0, 400)}`).toBe(code);
      }
    }
    const after = await server.services.prisma.multivariateOption.findMany({ where: { featureId: databaseId(feature.id) } });
    expect(after.map((o) => o.key)).toEqual(['k']);

    const clientRead = await server.request(Node, { id: feature.id }, client);
    expect(clientRead.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const analyticsRead = await server.request(ProjectFeatures, { id: projectId, name: feature.name }, analytics);
    expect(analyticsRead.data?.project?.features.edges.map((e) => e.node.name)).toEqual([feature.name]);
  });

  it('announces changed environments after each committed write, and none after a refused one', async () => {
    const feature = await newFeature([{ key: 'a', value: 1 }]);
    const all = environments.map((e) => databaseId(e.id)).sort();
    announced.length = 0;
    await server.data(UpdateFeature, { input: { id: feature.id, initialValue: 2 } });
    await createOption({ featureId: feature.id, key: 'b', value: 1 });
    await updateOption({ id: feature.options[0].id, value: 5 });
    await server.data(ArchiveFeature, { input: { id: feature.id } });
    expect(announced.map((ids) => [...ids].sort())).toEqual([all, all, all, all]);
    announced.length = 0;
    await createOption({ featureId: feature.id, key: 'a', value: 1 });
    await updateState({ id: feature.states[0].id, allocations: [{ optionId: feature.options[0].id, weight: 101 }] });
    expect(announced).toEqual([]);
  });
});
