// Experiments through GraphQL over HTTP (SPEC.md section 9): lifecycle, refusals, shipping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { CreateProject, RecordExposures } from '../../test/helpers/documents.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';

const CreateFeature = graphql(`
  mutation ExpCreateFeature($input: CreateFeatureInput!) {
    createFeature(input: $input) {
      __typename
      ... on CreateFeaturePayload { feature { id name options { id key } } }
      ... on Error { code message }
    }
  }
`);

const CreateExperiment = graphql(`
  mutation ExpCreateExperiment($input: CreateExperimentInput!) {
    createExperiment(input: $input) {
      __typename
      ... on CreateExperimentPayload { experiment { id name hypothesis status winnerKey environment { id } feature { id name } iterations { number } } }
      ... on Error { code message }
      ... on ValidationError { path }
      ... on DuplicateNameError { name path }
      ... on ExperimentNotReadyError { path options { optionId name } }
      ... on ExperimentExistsError { experimentId experimentName }
    }
  }
`);

const StartExperiment = graphql(`
  mutation ExpStartExperiment($input: StartExperimentInput!) {
    startExperiment(input: $input) {
      __typename
      ... on StartExperimentPayload {
        experiment { id status currentIteration { number stoppedAt allocation { key weight } } }
      }
      ... on Error { code message }
      ... on ExperimentStatusError { status path }
      ... on ExperimentNotReadyError { options { optionId } }
      ... on ExperimentExistsError { experimentName }
    }
  }
`);

const StopExperiment = graphql(`
  mutation ExpStopExperiment($input: StopExperimentInput!) {
    stopExperiment(input: $input) {
      __typename
      ... on StopExperimentPayload {
        experiment { id status winnerKey stoppedAt stoppedBy iterations { number startedAt stoppedAt allocation { key weight } } }
      }
      ... on Error { code message }
      ... on ValidationError { path }
      ... on ExperimentStatusError { status path }
    }
  }
`);

const UpdateState = graphql(`
  mutation ExpUpdateState($input: UpdateFeatureStateInput!) {
    updateFeatureState(input: $input) {
      __typename
      ... on UpdateFeatureStatePayload { featureState { id value allocations { option { key } weight } } }
      ... on Error { code message }
    }
  }
`);

const Lists = graphql(`
  query ExpLists($environmentId: ID!, $featureId: ID!) {
    environment: node(id: $environmentId) { ... on Environment { experiments { id name status } } }
    feature: node(id: $featureId) { ... on Feature { experiments { id name environment { id } } } }
  }
`);

const Node = graphql(`
  query ExpNode($id: ID!) {
    node(id: $id) { __typename id ... on Experiment { name status iterations { number } } }
  }
`);


const ArchiveFeature = graphql(`
  mutation ExpArchiveFeature($input: ArchiveFeatureInput!) {
    archiveFeature(input: $input) { __typename ... on Error { code message } ... on ExperimentRunningError { experimentId experimentName path } }
  }
`);
const CreateOption = graphql(`
  mutation ExpCreateOption($input: CreateMultivariateOptionInput!) {
    createMultivariateOption(input: $input) { __typename ... on Error { code message } ... on ExperimentRunningError { experimentId experimentName path } }
  }
`);
const UpdateOption = graphql(`
  mutation ExpUpdateOption($input: UpdateMultivariateOptionInput!) {
    updateMultivariateOption(input: $input) { __typename ... on Error { code message } ... on ExperimentRunningError { experimentId experimentName path } }
  }
`);
const DeleteOption = graphql(`
  mutation ExpDeleteOption($input: DeleteMultivariateOptionInput!) {
    deleteMultivariateOption(input: $input) { __typename ... on Error { code message } ... on ExperimentRunningError { experimentId experimentName path } }
  }
`);
const ChangeState = graphql(`
  mutation ExpChangeState($input: UpdateFeatureStateInput!) {
    updateFeatureState(input: $input) { __typename ... on Error { code message } ... on ExperimentRunningError { experimentId experimentName path } }
  }
`);
const CreateSegment = graphql(`
  mutation ExpCreateSegment($input: CreateSegmentInput!) {
    createSegment(input: $input) { __typename ... on CreateSegmentPayload { segment { id } } ... on Error { code message } }
  }
`);
const UpdateSegment = graphql(`
  mutation ExpUpdateSegment($input: UpdateSegmentInput!) {
    updateSegment(input: $input) {
      __typename ... on UpdateSegmentPayload { segment { name description } } ... on Error { code message }
      ... on ExperimentRunningError { experimentId experimentName path }
    }
  }
`);
const DeleteSegment = graphql(`
  mutation ExpDeleteSegment($input: DeleteSegmentInput!) {
    deleteSegment(input: $input) {
      __typename ... on DeleteSegmentPayload { removedOverrides } ... on Error { code message }
      ... on ExperimentRunningError { experimentId experimentName path }
    }
  }
`);
const SegmentNow = graphql(`
  query ExpSegmentNow($id: ID!) {
    node(id: $id) { ... on Segment { name description rules } }
  }
`);
const SetSegmentOverride = graphql(`
  mutation ExpSetSegmentOverride($input: SetSegmentOverrideInput!) {
    setSegmentOverride(input: $input) {
      __typename ... on SetSegmentOverridePayload { segmentOverride { id } } ... on Error { code message }
      ... on ExperimentRunningError { experimentId experimentName path }
    }
  }
`);
const RemoveSegmentOverride = graphql(`
  mutation ExpRemoveSegmentOverride($input: RemoveSegmentOverrideInput!) {
    removeSegmentOverride(input: $input) { __typename ... on Error { code message } ... on ExperimentRunningError { experimentId experimentName path } }
  }
`);
const SetIdentityOverride = graphql(`
  mutation ExpSetIdentityOverride($input: SetIdentityOverrideInput!) {
    setIdentityOverride(input: $input) {
      __typename ... on SetIdentityOverridePayload { identityOverride { id } } ... on Error { code message }
      ... on ExperimentRunningError { experimentId experimentName path }
    }
  }
`);
const RemoveIdentityOverride = graphql(`
  mutation ExpRemoveIdentityOverride($input: RemoveIdentityOverrideInput!) {
    removeIdentityOverride(input: $input) { __typename ... on Error { code message } ... on ExperimentRunningError { experimentId experimentName path } }
  }
`);
const FeatureNow = graphql(`
  query ExpFeatureNow($id: ID!, $environmentId: ID!) {
    node(id: $id) {
      ... on Feature {
        archivedAt
        options { id key value defaultWeight priority }
        state(environmentId: $environmentId) { enabled value allocations { option { key } weight } segmentOverrides { id } }
      }
    }
  }
`);

const Results = graphql(`
  query ExpResults($id: ID!, $iteration: Int) {
    node(id: $id) {
      ... on Experiment {
        results(iteration: $iteration) {
          iteration exposures identities conflictedIdentities
          variants { key exposures identities conflictedIdentities observedShare expectedShare }
          srm { pValue status }
        }
      }
    }
  }
`);

const StampedExposures = graphql(`
  query ExpStampedExposures($environmentId: ID!, $feature: String!) {
    exposures(environmentId: $environmentId, feature: $feature, first: 1000) {
      edges { node { identifier variantKey iteration experiment { id } } }
    }
  }
`);

const Flag = graphql(`
  query ExpFlag($name: String!, $identifier: String) {
    flag(name: $name, identifier: $identifier) { name variant experiment { id name iteration } }
  }
`);

describe.each(databaseKinds)('experiments on %s', (kind) => {
  let server: TestServer;
  let projectId: string;
  let production: string;
  let productionKey: string;
  let development: string;
  let counter = 0;
  const unique = (prefix: string) => `${prefix}_${++counter}`;

  async function feature(options: { key?: string | null; name?: string; defaultWeight?: number; value?: unknown }[]) {
    const { createFeature } = await server.data(CreateFeature, {
      input: { projectId, name: unique('checkout_button'), initialValue: 'grey', options: options.map((o) => ({ value: o.key ?? 'v', ...o })) },
    });
    if (createFeature.__typename !== 'CreateFeaturePayload') throw new Error(createFeature.__typename);
    return createFeature.feature;
  }

  async function experiment(featureName: string, environmentId = production, name = unique('exp')) {
    const { createExperiment } = await server.data(CreateExperiment, { input: { environmentId, feature: featureName, name } });
    if (createExperiment.__typename !== 'CreateExperimentPayload') throw new Error(JSON.stringify(createExperiment));
    return createExperiment.experiment;
  }

  beforeAll(async () => {
    server = await startTestServer(kind);
    const { createProject } = await server.data(CreateProject, { input: { name: 'Experiments' } });
    if (createProject.__typename !== 'CreateProjectPayload') throw new Error(createProject.__typename);
    projectId = createProject.project.id;
    development = createProject.project.environments.find((e) => e.name === 'development')!.id;
    production = createProject.project.environments.find((e) => e.name === 'production')!.id;
    productionKey = createProject.project.environments.find((e) => e.name === 'production')!.key;
  });
  afterAll(() => server?.close());

  it('creates, starts, stops and restarts as new iterations with frozen allocations', async () => {
    const f = await feature([
      { key: 'green', defaultWeight: 30 },
      { key: 'blue', defaultWeight: 30 },
    ]);
    const { createExperiment } = await server.data(CreateExperiment, {
      input: { environmentId: production, feature: f.name, name: ' button colour ', hypothesis: ' green sells ' },
    });
    expect(createExperiment).toMatchObject({
      __typename: 'CreateExperimentPayload',
      experiment: { name: 'button colour', hypothesis: 'green sells', status: 'DRAFT', winnerKey: null, feature: { id: f.id }, iterations: [] },
    });
    if (createExperiment.__typename !== 'CreateExperimentPayload') return;
    const id = createExperiment.experiment.id;

    const started = await server.data(StartExperiment, { input: { id } });
    expect(started.startExperiment).toMatchObject({
      experiment: {
        status: 'RUNNING',
        currentIteration: { number: 1, stoppedAt: null, allocation: [{ key: 'green', weight: 30 }, { key: 'blue', weight: 30 }, { key: 'control', weight: 40 }] },
      },
    });
    const again = await server.data(StartExperiment, { input: { id } });
    expect(again.startExperiment).toMatchObject({ __typename: 'ExperimentStatusError', code: 'INVALID_EXPERIMENT_STATUS', status: 'RUNNING' });

    const stopped = await server.data(StopExperiment, { input: { id } });
    expect(stopped.stopExperiment).toMatchObject({ experiment: { status: 'STOPPED', winnerKey: null, stoppedBy: expect.any(String) } });
    if (stopped.stopExperiment.__typename !== 'StopExperimentPayload') return;
    expect(stopped.stopExperiment.experiment.stoppedAt).not.toBeNull();
    expect(stopped.stopExperiment.experiment.iterations[0].stoppedAt).not.toBeNull();
    const stopAgain = await server.data(StopExperiment, { input: { id } });
    expect(stopAgain.stopExperiment).toMatchObject({ __typename: 'ExperimentStatusError', status: 'STOPPED' });

    // Change the weights while stopped, start again: iteration 2 freezes the new split.
    const green = f.options.find((o) => o.key === 'green')!.id;
    const changed = await server.data(UpdateState, { input: { environmentId: production, featureId: f.id, allocations: [{ optionId: green, weight: 50 }] } });
    expect(changed.updateFeatureState.__typename).toBe('UpdateFeatureStatePayload');
    const second = await server.data(StartExperiment, { input: { id } });
    expect(second.startExperiment).toMatchObject({
      experiment: { currentIteration: { number: 2, allocation: [{ key: 'green', weight: 50 }, { key: 'blue', weight: 30 }, { key: 'control', weight: 20 }] } },
    });
    const finished = await server.data(StopExperiment, { input: { id, winnerKey: 'green' } });
    expect(finished.stopExperiment).toMatchObject({
      experiment: {
        status: 'STOPPED',
        winnerKey: 'green',
        iterations: [
          { number: 1, allocation: [{ key: 'green', weight: 30 }, { key: 'blue', weight: 30 }, { key: 'control', weight: 40 }] },
          { number: 2, allocation: [{ key: 'green', weight: 50 }, { key: 'blue', weight: 30 }, { key: 'control', weight: 20 }] },
        ],
      },
    });

    const lists = await server.data(Lists, { environmentId: production, featureId: f.id });
    expect(lists.environment).toMatchObject({ experiments: expect.arrayContaining([{ id, name: 'button colour', status: 'STOPPED' }]) });
    expect(lists.feature).toEqual({ experiments: [{ id, name: 'button colour', environment: { id: production } }] });
    expect((await server.data(Node, { id })).node).toMatchObject({ __typename: 'Experiment', name: 'button colour', iterations: [{ number: 1 }, { number: 2 }] });
  });

  it('refuses features that are not ready, naming the options without a key, and writes nothing', async () => {
    const plain = await feature([]);
    const none = await server.data(CreateExperiment, { input: { environmentId: production, feature: plain.name, name: unique('exp') } });
    expect(none.createExperiment).toMatchObject({ __typename: 'ExperimentNotReadyError', code: 'EXPERIMENT_NOT_READY', options: [] });

    const f = await feature([{ key: 'a', defaultWeight: 10 }, { key: null, name: 'nameless' }, { key: '' }]);
    const refused = await server.data(CreateExperiment, { input: { environmentId: production, feature: f.name, name: unique('exp') } });
    expect(refused.createExperiment).toMatchObject({ __typename: 'ExperimentNotReadyError', code: 'EXPERIMENT_NOT_READY', path: ['feature'] });
    if (refused.createExperiment.__typename !== 'ExperimentNotReadyError') return;
    expect(refused.createExperiment.options).toEqual([
      { optionId: f.options[1].id, name: 'nameless' },
      { optionId: f.options[2].id, name: null },
    ]);
    expect((await server.data(Lists, { environmentId: production, featureId: f.id })).feature).toEqual({ experiments: [] });

    const unknown = await server.data(CreateExperiment, { input: { environmentId: production, feature: 'no_such_feature', name: unique('exp') } });
    expect(unknown.createExperiment).toMatchObject({ __typename: 'ValidationError', code: 'FEATURE_NOT_FOUND', path: ['feature'] });
    const badName = await server.data(CreateExperiment, { input: { environmentId: production, feature: f.name, name: '  ' } });
    expect(badName.createExperiment).toMatchObject({ code: 'INVALID_NAME', path: ['name'] });
  });

  it('keeps names unique per environment and one open experiment per feature and environment', async () => {
    const f = await feature([{ key: 'a', defaultWeight: 50 }]);
    const g = await feature([{ key: 'b', defaultWeight: 50 }]);
    const first = await experiment(f.name, production, 'shared name');
    const taken = await server.data(CreateExperiment, { input: { environmentId: production, feature: g.name, name: 'shared name' } });
    expect(taken.createExperiment).toMatchObject({ __typename: 'DuplicateNameError', code: 'DUPLICATE_NAME', name: 'shared name', path: ['name'] });
    // Another environment may use the name, and test the same feature.
    await experiment(f.name, development, 'shared name');

    const second = await server.data(CreateExperiment, { input: { environmentId: production, feature: f.name, name: unique('exp') } });
    expect(second.createExperiment).toMatchObject({ __typename: 'ExperimentExistsError', code: 'EXPERIMENT_EXISTS', experimentId: first.id, experimentName: 'shared name' });

    await server.data(StartExperiment, { input: { id: first.id } });
    await server.data(StopExperiment, { input: { id: first.id } });
    const next = await experiment(f.name);
    // A stopped experiment cannot start again while a newer one of the feature is open.
    const restart = await server.data(StartExperiment, { input: { id: first.id } });
    expect(restart.startExperiment).toMatchObject({ __typename: 'ExperimentExistsError', experimentName: next.name });
  });

  it('ships the winner: the state serves its value with every weight 0, in the same write', async () => {
    const f = await feature([
      { key: 'green', defaultWeight: 40, value: { colour: 'green' } },
      { key: 'blue', defaultWeight: 40, value: { colour: 'blue' } },
    ]);
    const e = await experiment(f.name);
    await server.data(StartExperiment, { input: { id: e.id } });

    const noWinner = await server.data(StopExperiment, { input: { id: e.id, ship: true } });
    expect(noWinner.stopExperiment).toMatchObject({ __typename: 'ValidationError', code: 'INVALID_INPUT', path: ['winnerKey'] });
    const unknown = await server.data(StopExperiment, { input: { id: e.id, winnerKey: 'purple', ship: true } });
    expect(unknown.stopExperiment).toMatchObject({ __typename: 'ValidationError', code: 'UNKNOWN_VARIANT_KEY', path: ['winnerKey'] });
    expect((await server.data(Node, { id: e.id })).node).toMatchObject({ status: 'RUNNING' });

    const shipped = await server.data(StopExperiment, { input: { id: e.id, winnerKey: 'blue', ship: true } });
    expect(shipped.stopExperiment).toMatchObject({ experiment: { status: 'STOPPED', winnerKey: 'blue' } });
    const state = await server.data(UpdateState, { input: { environmentId: production, featureId: f.id } });
    expect(state.updateFeatureState).toMatchObject({
      featureState: { value: { colour: 'blue' }, allocations: expect.arrayContaining([{ option: { key: 'green' }, weight: 0 }, { option: { key: 'blue' }, weight: 0 }]) },
    });
  });

  it('refuses every write that changes who gets what while the experiment runs, on every path, writing nothing', async () => {
    const f = await feature([
      { key: 'green', defaultWeight: 40 },
      { key: 'blue', defaultWeight: 40 },
    ]);
    const [green, blue] = f.options.map((o) => o.id);
    const { createSegment } = await server.data(CreateSegment, { input: { projectId, name: unique('segment'), rules: [] } });
    if (createSegment.__typename !== 'CreateSegmentPayload') throw new Error(createSegment.__typename);
    const segmentId = createSegment.segment.id;
    const segmentOverride = await server.data(SetSegmentOverride, { input: { environmentId: production, featureId: f.id, segmentId, enabled: true } });
    const identityOverride = await server.data(SetIdentityOverride, { input: { environmentId: production, feature: f.name, identifier: 'ann', enabled: true } });
    if (segmentOverride.setSegmentOverride.__typename !== 'SetSegmentOverridePayload') throw new Error('segment override');
    if (identityOverride.setIdentityOverride.__typename !== 'SetIdentityOverridePayload') throw new Error('identity override');
    const e = await experiment(f.name);
    await server.data(StartExperiment, { input: { id: e.id } });
    const before = await server.data(FeatureNow, { id: f.id, environmentId: production });

    const refused = { __typename: 'ExperimentRunningError', code: 'EXPERIMENT_RUNNING', experimentId: e.id, experimentName: e.name };
    const attempts: [string, Promise<Record<string, unknown>>][] = [
      ['allocations', server.data(ChangeState, { input: { environmentId: production, featureId: f.id, allocations: [{ optionId: green, weight: 10 }] } })],
      ['value', server.data(ChangeState, { input: { environmentId: production, featureId: f.id, value: 'red' } })],
      ['archive', server.data(ArchiveFeature, { input: { id: f.id } })],
      ['add option', server.data(CreateOption, { input: { featureId: f.id, key: 'red', defaultWeight: 5 } })],
      ['delete option', server.data(DeleteOption, { input: { id: blue } })],
      ['option weight', server.data(UpdateOption, { input: { id: green, defaultWeight: 10 } })],
      ['option value', server.data(UpdateOption, { input: { id: green, value: 'lime' } })],
      ['option key', server.data(UpdateOption, { input: { id: green, key: 'lime' } })],
      ['option priority', server.data(UpdateOption, { input: { id: green, priority: 99 } })],
      ['set segment override', server.data(SetSegmentOverride, { input: { environmentId: production, featureId: f.id, segmentId, enabled: false } })],
      ['remove segment override', server.data(RemoveSegmentOverride, { input: { id: segmentOverride.setSegmentOverride.segmentOverride.id } })],
      ['set identity override', server.data(SetIdentityOverride, { input: { environmentId: production, feature: f.name, identifier: 'bob', enabled: true } })],
      ['remove identity override', server.data(RemoveIdentityOverride, { input: { id: identityOverride.setIdentityOverride.identityOverride.id } })],
    ];
    for (const [path, attempt] of attempts) {
      const result = Object.values(await attempt)[0];
      expect({ path, result }).toMatchObject({ path, result: refused });
    }
    expect(await server.data(FeatureNow, { id: f.id, environmentId: production })).toEqual(before);

    // Free: the kill switch, an option's name, and the same feature in another environment.
    expect((await server.data(ChangeState, { input: { environmentId: production, featureId: f.id, enabled: true } })).updateFeatureState.__typename).toBe('UpdateFeatureStatePayload');
    expect((await server.data(UpdateOption, { input: { id: green, name: 'Green' } })).updateMultivariateOption.__typename).toBe('UpdateMultivariateOptionPayload');
    const elsewhere = await server.data(ChangeState, { input: { environmentId: development, featureId: f.id, allocations: [{ optionId: green, weight: 10 }] } });
    expect(elsewhere.updateFeatureState.__typename).toBe('UpdateFeatureStatePayload');

    await server.data(StopExperiment, { input: { id: e.id } });
    const after = await server.data(ChangeState, { input: { environmentId: production, featureId: f.id, allocations: [{ optionId: green, weight: 10 }] } });
    expect(after.updateFeatureState.__typename).toBe('UpdateFeatureStatePayload');
  });

  it('refuses rule changes and forced deletes of a segment that overrides a feature under a running experiment, writing nothing', async () => {
    const f = await feature([{ key: 'green', defaultWeight: 50 }]);
    const rules = [{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }], rules: [] }];
    const otherRules = [{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'free' }], rules: [] }];
    async function segmentOverriding(environmentId: string) {
      const { createSegment } = await server.data(CreateSegment, { input: { projectId, name: unique('segment'), rules } });
      if (createSegment.__typename !== 'CreateSegmentPayload') throw new Error(createSegment.__typename);
      const { setSegmentOverride } = await server.data(SetSegmentOverride, { input: { environmentId, featureId: f.id, segmentId: createSegment.segment.id, enabled: true } });
      if (setSegmentOverride.__typename !== 'SetSegmentOverridePayload') throw new Error(setSegmentOverride.__typename);
      return createSegment.segment.id;
    }
    const inProduction = await segmentOverriding(production);
    const inDevelopment = await segmentOverriding(development);
    const e = await experiment(f.name);
    await server.data(StartExperiment, { input: { id: e.id } });
    const segmentBefore = await server.data(SegmentNow, { id: inProduction });
    const featureBefore = await server.data(FeatureNow, { id: f.id, environmentId: production });

    const refused = { __typename: 'ExperimentRunningError', code: 'EXPERIMENT_RUNNING', experimentId: e.id, experimentName: e.name };
    expect((await server.data(UpdateSegment, { input: { id: inProduction, rules: otherRules } })).updateSegment).toMatchObject({ ...refused, path: ['rules'] });
    expect((await server.data(UpdateSegment, { input: { id: inProduction, name: unique('renamed'), rules: otherRules } })).updateSegment).toMatchObject(refused);
    expect((await server.data(DeleteSegment, { input: { id: inProduction, force: true } })).deleteSegment).toMatchObject({ ...refused, path: ['id'] });
    expect(await server.data(SegmentNow, { id: inProduction })).toEqual(segmentBefore);
    expect(await server.data(FeatureNow, { id: f.id, environmentId: production })).toEqual(featureBefore);

    // Free: its name, its description, the same rules again, and a segment overriding the feature in another environment.
    const renamed = await server.data(UpdateSegment, { input: { id: inProduction, name: unique('renamed'), description: 'Paying', rules } });
    expect(renamed.updateSegment).toMatchObject({ __typename: 'UpdateSegmentPayload', segment: { description: 'Paying' } });
    expect((await server.data(UpdateSegment, { input: { id: inDevelopment, rules: otherRules } })).updateSegment.__typename).toBe('UpdateSegmentPayload');
    expect((await server.data(DeleteSegment, { input: { id: inDevelopment, force: true } })).deleteSegment).toMatchObject({ removedOverrides: 1 });

    await server.data(StopExperiment, { input: { id: e.id } });
    expect((await server.data(UpdateSegment, { input: { id: inProduction, rules: otherRules } })).updateSegment.__typename).toBe('UpdateSegmentPayload');
    expect((await server.data(DeleteSegment, { input: { id: inProduction, force: true } })).deleteSegment).toMatchObject({ removedOverrides: 1 });
  });

  it('a start racing an allocation change: the frozen allocation is always what the state serves', async () => {
    for (let round = 0; round < 6; round++) {
      const f = await feature([{ key: 'a', defaultWeight: 50 }]);
      const e = await experiment(f.name);
      const [started, changed] = await Promise.all([
        server.data(StartExperiment, { input: { id: e.id } }),
        server.data(ChangeState, { input: { environmentId: production, featureId: f.id, allocations: [{ optionId: f.options[0].id, weight: 20 }] } }),
      ]);
      if (started.startExperiment.__typename !== 'StartExperimentPayload') throw new Error(JSON.stringify(started));
      const frozen = started.startExperiment.experiment.currentIteration?.allocation;
      const now = await server.data(FeatureNow, { id: f.id, environmentId: production });
      const served = now.node && 'state' in now.node ? now.node.state?.allocations : undefined;
      if (changed.updateFeatureState.__typename === 'UpdateFeatureStatePayload') {
        expect(frozen).toEqual([{ key: 'a', weight: 20 }, { key: 'control', weight: 80 }]);
        expect(served).toEqual([{ option: { key: 'a' }, weight: 20 }]);
      } else {
        expect(changed.updateFeatureState).toMatchObject({ code: 'EXPERIMENT_RUNNING' });
        expect(frozen).toEqual([{ key: 'a', weight: 50 }, { key: 'control', weight: 50 }]);
        expect(served).toEqual([]);
      }
    }
  });

  type Item = { identifier: string; variantKey: string; exposedAt?: string };

  async function record(featureName: string, items: Item[]) {
    for (let start = 0; start < items.length; start += 1000) {
      const { recordExposures } = await server.data(
        RecordExposures,
        { input: { exposures: items.slice(start, start + 1000).map((item) => ({ feature: featureName, ...item })) } },
        { environmentKey: productionKey },
      );
      if (recordExposures.__typename !== 'RecordExposuresPayload' || recordExposures.rejected !== 0) throw new Error(JSON.stringify(recordExposures));
    }
  }

  /** n identities split by first variant: `counts` of each key, in order. */
  function split(prefix: string, counts: Record<string, number>): Item[] {
    const items: Item[] = [];
    for (const [key, count] of Object.entries(counts)) for (let i = 0; i < count; i++) items.push({ identifier: `${prefix}_${key}_${i}`, variantKey: key });
    return items;
  }

  async function results(id: string, iteration?: number) {
    const { node } = await server.data(Results, { id, iteration });
    if (!node || !('results' in node)) throw new Error('no experiment');
    return node.results;
  }

  it('stamps exposures with their iteration and summarises each iteration against its own allocation', async () => {
    const f = await feature([
      { key: 'a', defaultWeight: 50 },
      { key: 'b', defaultWeight: 50 },
    ]);
    const before = new Date(Date.now() - 60_000).toISOString();
    const e = await experiment(f.name);
    await server.data(StartExperiment, { input: { id: e.id } });
    // An exposure from before the start belongs to no iteration.
    await record(f.name, [{ identifier: 'early', variantKey: 'a', exposedAt: before }]);
    // 300 identities, 150/150, one of them also shown b later: conflicted.
    await record(f.name, [...split('one', { a: 150, b: 150 }), { identifier: 'one_a_0', variantKey: 'b' }]);
    const stop = await server.data(StopExperiment, { input: { id: e.id } });
    if (stop.stopExperiment.__typename !== 'StopExperimentPayload') throw new Error('stop');
    const first = stop.stopExperiment.experiment.iterations[0];

    await server.data(ChangeState, { input: { environmentId: production, featureId: f.id, allocations: [{ optionId: f.options[0].id, weight: 75 }, { optionId: f.options[1].id, weight: 25 }] } });
    // Between the iterations: no iteration.
    await record(f.name, [{ identifier: 'between', variantKey: 'a' }]);
    await server.data(StartExperiment, { input: { id: e.id } });
    // 600 identities, 450/150 against 75/25, and a late event of iteration 1 arriving now.
    const lateAt = new Date(new Date(first.stoppedAt!).getTime() - 1).toISOString();
    await record(f.name, [...split('two', { a: 450, b: 150 }), { identifier: 'late', variantKey: 'b', exposedAt: lateAt }]);

    const one = await results(e.id, 1);
    expect(one).toMatchObject({
      iteration: 1,
      exposures: 302,
      identities: 301,
      conflictedIdentities: 1,
      variants: [
        { key: 'a', exposures: 150, identities: 150, conflictedIdentities: 1, expectedShare: 0.5 },
        { key: 'b', exposures: 152, identities: 151, conflictedIdentities: 0, expectedShare: 0.5 },
        { key: 'control', exposures: 0, identities: 0, expectedShare: 0 },
      ],
      srm: { status: 'OK' },
    });
    expect(one?.variants[0].observedShare).toBeCloseTo(150 / 301, 10);
    const two = await results(e.id);
    expect(two).toMatchObject({
      iteration: 2,
      exposures: 600,
      identities: 600,
      variants: [
        { key: 'a', identities: 450, observedShare: 0.75, expectedShare: 0.75 },
        { key: 'b', identities: 150, observedShare: 0.25, expectedShare: 0.25 },
        { key: 'control', identities: 0, expectedShare: 0 },
      ],
      srm: { pValue: 1, status: 'OK' },
    });
    expect(await results(e.id, 3)).toBeNull();

    // A recount from the raw rows agrees.
    const { exposures } = await server.data(StampedExposures, { environmentId: production, feature: f.name });
    const rows = exposures.edges.map((edge) => edge.node);
    const stamped = (n: number) => rows.filter((row) => row.iteration === n && row.experiment?.id === e.id);
    expect(stamped(1)).toHaveLength(302);
    expect(stamped(2)).toHaveLength(600);
    expect(rows.filter((row) => row.iteration === null && row.experiment === null).map((row) => row.identifier).sort()).toEqual(['between', 'early']);
  });

  it('grades the sample ratio: 450/150 of 50/50 FAILED, 60 identities INSUFFICIENT_DATA', async () => {
    const skewed = await feature([{ key: 'a', defaultWeight: 50 }, { key: 'b', defaultWeight: 50 }]);
    const e1 = await experiment(skewed.name);
    await server.data(StartExperiment, { input: { id: e1.id } });
    await record(skewed.name, split('skew', { a: 450, b: 150 }));
    const failed = await results(e1.id);
    expect(failed?.srm.status).toBe('FAILED');
    expect(failed?.srm.pValue).toBeLessThan(0.001);

    const few = await feature([{ key: 'a', defaultWeight: 50 }, { key: 'b', defaultWeight: 50 }]);
    const e2 = await experiment(few.name);
    await server.data(StartExperiment, { input: { id: e2.id } });
    await record(few.name, split('few', { a: 50, b: 10 }));
    expect((await results(e2.id))?.srm.status).toBe('INSUFFICIENT_DATA');
  });

  it('stamps every exposure of 20 concurrent batches', async () => {
    const f = await feature([{ key: 'a', defaultWeight: 50 }, { key: 'b', defaultWeight: 50 }]);
    const e = await experiment(f.name);
    await server.data(StartExperiment, { input: { id: e.id } });
    await Promise.all(
      Array.from({ length: 20 }, (_, batch) => record(f.name, Array.from({ length: 50 }, (_, i) => ({ identifier: `c${batch}_${i}`, variantKey: i % 2 ? 'b' : 'a' })))),
    );
    expect(await results(e.id)).toMatchObject({
      exposures: 1000,
      identities: 1000,
      variants: [{ key: 'a', identities: 500 }, { key: 'b', identities: 500 }, { key: 'control', identities: 0 }],
      srm: { pValue: 1, status: 'OK' },
    });
  });

  it('names the running experiment and its iteration on the flag, and nothing once stopped', async () => {
    const f = await feature([{ key: 'a', defaultWeight: 100 }]);
    const e = await experiment(f.name);
    const flag = async () => (await server.data(Flag, { name: f.name, identifier: 'someone' }, { environmentKey: productionKey })).flag;
    expect(await flag()).toMatchObject({ experiment: null });
    await server.data(StartExperiment, { input: { id: e.id } });
    expect(await flag()).toMatchObject({ variant: 'a', experiment: { id: e.id, name: e.name, iteration: 1 } });
    await server.data(StopExperiment, { input: { id: e.id } });
    expect(await flag()).toMatchObject({ experiment: null });
    await server.data(StartExperiment, { input: { id: e.id } });
    expect(await flag()).toMatchObject({ experiment: { iteration: 2 } });
  });

  it('answers NOT_FOUND for unknown experiments and leaves analytics tokens out of writes', async () => {
    const missing = await server.data(StartExperiment, { input: { id: Buffer.from('Experiment:999999').toString('base64') } });
    expect(missing.startExperiment).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
  });
});
