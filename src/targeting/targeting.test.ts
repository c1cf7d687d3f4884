// Segments, segment overrides and identity overrides through GraphQL over HTTP (SPEC.md section 8).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { globalId } from '../../test/helpers/ids.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';

const CreateProject = graphql(`
  mutation TgtCreateProject($input: CreateProjectInput!) {
    createProject(input: $input) {
      __typename
      ... on CreateProjectPayload { project { id environments { id name key } } }
      ... on Error { code message }
    }
  }
`);

const CreateFeature = graphql(`
  mutation TgtCreateFeature($input: CreateFeatureInput!) {
    createFeature(input: $input) {
      __typename
      ... on CreateFeaturePayload { feature { id name options { id key } states { id environment { id } } } }
      ... on Error { code message }
    }
  }
`);


const CreateSegment = graphql(`
  mutation TgtCreateSegment($input: CreateSegmentInput!) {
    createSegment(input: $input) {
      __typename
      ... on CreateSegmentPayload { segment { id name description rules project { id } } }
      ... on Error { code message }
      ... on ValidationError { path }
      ... on NotFoundError { path }
      ... on DuplicateNameError { name path }
      ... on SegmentRulesError { path problems { path message } }
    }
  }
`);

const UpdateSegment = graphql(`
  mutation TgtUpdateSegment($input: UpdateSegmentInput!) {
    updateSegment(input: $input) {
      __typename
      ... on UpdateSegmentPayload { segment { id name description rules } }
      ... on Error { code message }
      ... on ValidationError { path }
      ... on NotFoundError { path }
      ... on DuplicateNameError { name path }
      ... on SegmentRulesError { path problems { path message } }
    }
  }
`);

const DeleteSegment = graphql(`
  mutation TgtDeleteSegment($input: DeleteSegmentInput!) {
    deleteSegment(input: $input) {
      __typename
      ... on DeleteSegmentPayload { segment { id name } removedOverrides }
      ... on Error { code message }
      ... on NotFoundError { path }
      ... on SegmentInUseError { overrides path }
    }
  }
`);

const Segments = graphql(`
  query TgtSegments($id: ID!, $first: Int, $after: String) {
    project(id: $id) {
      segments(first: $first, after: $after) {
        totalCount
        edges { node { id name } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`);

const SetSegmentOverride = graphql(`
  mutation TgtSetSegmentOverride($input: SetSegmentOverrideInput!) {
    setSegmentOverride(input: $input) {
      __typename
      ... on SetSegmentOverridePayload {
        segmentOverride {
          id enabled value priority
          segment { id name }
          feature { id }
          environment { id }
          allocations { option { id key } weight }
        }
      }
      ... on Error { code message }
      ... on ValidationError { path }
      ... on NotFoundError { path }
      ... on DuplicatePriorityError { priority path }
      ... on WeightsError { total environmentName path }
    }
  }
`);

const RemoveSegmentOverride = graphql(`
  mutation TgtRemoveSegmentOverride($input: RemoveSegmentOverrideInput!) {
    removeSegmentOverride(input: $input) {
      __typename
      ... on RemoveSegmentOverridePayload { segmentOverride { id priority } }
      ... on Error { code message }
      ... on NotFoundError { path }
    }
  }
`);

const StateOverrides = graphql(`
  query TgtStateOverrides($id: ID!) {
    node(id: $id) {
      ... on FeatureState { segmentOverrides { id priority enabled value segment { name } allocations { weight } } }
    }
  }
`);

const SetIdentityOverride = graphql(`
  mutation TgtSetIdentityOverride($input: SetIdentityOverrideInput!) {
    setIdentityOverride(input: $input) {
      __typename
      ... on SetIdentityOverridePayload { identityOverride { id enabled value feature { name } identity { id identifier } } }
      ... on Error { code message }
      ... on ValidationError { path }
      ... on NotFoundError { path }
    }
  }
`);

const RemoveIdentityOverride = graphql(`
  mutation TgtRemoveIdentityOverride($input: RemoveIdentityOverrideInput!) {
    removeIdentityOverride(input: $input) {
      __typename
      ... on RemoveIdentityOverridePayload { identityOverride { id enabled } }
      ... on Error { code message }
      ... on NotFoundError { path }
    }
  }
`);

const IdentityOf = graphql(`
  query TgtIdentity($environmentId: ID!, $identifier: String!) {
    node(id: $environmentId) {
      ... on Environment {
        identity(identifier: $identifier) {
          id identifier traits
          segments { name }
          overrides { id enabled value feature { name } }
        }
      }
    }
  }
`);

const Node = graphql(`
  query TgtNode($id: ID!) {
    node(id: $id) {
      __typename id
      ... on Segment { name }
      ... on SegmentOverride { priority }
      ... on IdentityOverride { enabled }
      ... on Identity { identifier }
    }
  }
`);

const Flags = graphql(`
  query TgtFlags($identifier: String, $traits: JSON) {
    flags(identifier: $identifier, traits: $traits) { name }
  }
`);

type Environment = { id: string; name: string; key: string };

const proInCa = [
  {
    type: 'ALL',
    conditions: [
      { property: 'plan', operator: 'EQUAL', value: 'pro' },
      { property: 'country', operator: 'IN', value: 'CA,US' },
    ],
  },
];

describe.each(databaseKinds)('targeting on %s', (kind) => {
  let server: TestServer;
  let projectId: string;
  let environments: Environment[];
  let other: { projectId: string; environmentId: string; featureId: string; optionId: string; segmentId: string };
  const announced: number[][] = [];
  let counter = 0;
  const unique = (prefix: string) => `${prefix}_${++counter}`;

  async function project(name: string) {
    const { createProject } = await server.data(CreateProject, { input: { name } });
    if (createProject.__typename !== 'CreateProjectPayload') throw new Error(createProject.__typename);
    return createProject.project;
  }

  async function feature(inProject: string, options: { key: string; defaultWeight?: number }[] = []) {
    const { createFeature } = await server.data(CreateFeature, {
      input: { projectId: inProject, name: unique('feature'), initialValue: 'off', options: options.map((o) => ({ ...o, value: o.key })) },
    });
    if (createFeature.__typename !== 'CreateFeaturePayload') throw new Error(createFeature.__typename);
    return createFeature.feature;
  }

  async function segment(inProject: string, rules: unknown = proInCa, name = unique('segment')) {
    const { createSegment } = await server.data(CreateSegment, { input: { projectId: inProject, name, rules } });
    if (createSegment.__typename !== 'CreateSegmentPayload') throw new Error(JSON.stringify(createSegment));
    return createSegment.segment;
  }

  beforeAll(async () => {
    server = await startTestServer(kind);
    server.services.configChanges.subscribe((ids) => {
      if (ids) announced.push(ids);
    });
    const created = await project('Targeting');
    projectId = created.id;
    environments = created.environments;
    const second = await project('Elsewhere');
    const otherFeature = await feature(second.id, [{ key: 'x' }]);
    const otherSegment = await segment(second.id);
    other = {
      projectId: second.id,
      environmentId: second.environments[0].id,
      featureId: otherFeature.id,
      optionId: otherFeature.options[0].id,
      segmentId: otherSegment.id,
    };
  });
  afterAll(() => server?.close());

  describe('segments', () => {
    it('creates, lists, reads, renames and re-rules a segment', async () => {
      const created = await segment(projectId, proInCa, 'pro_in_ca');
      expect(created).toMatchObject({ name: 'pro_in_ca', description: null, rules: proInCa, project: { id: projectId } });
      expect((await server.data(Node, { id: created.id })).node).toMatchObject({ __typename: 'Segment', name: 'pro_in_ca' });

      const rules = [{ type: 'ANY', conditions: [{ property: 'plan', operator: 'REGEX', value: '^(pro|team)$' }] }];
      const { updateSegment } = await server.data(UpdateSegment, { input: { id: created.id, name: 'paying', description: ' people who pay ', rules } });
      expect(updateSegment).toMatchObject({ segment: { name: 'paying', description: 'people who pay', rules } });
      const kept = await server.data(UpdateSegment, { input: { id: created.id, description: null } });
      expect(kept.updateSegment).toMatchObject({ segment: { name: 'paying', description: null, rules } });

      const list = await server.data(Segments, { id: projectId, first: 500 });
      expect(list.project?.segments.edges.map((edge) => edge.node.name)).toContain('paying');
      expect(list.project?.segments.edges.map((edge) => edge.node.id)).not.toContain(other.segmentId);
    });

    it('refuses duplicate and malformed names and unknown projects, writing nothing', async () => {
      const first = await segment(projectId, [], 'taken_name');
      const duplicate = await server.data(CreateSegment, { input: { projectId, name: ' taken_name ', rules: [] } });
      expect(duplicate.createSegment).toMatchObject({ __typename: 'DuplicateNameError', code: 'DUPLICATE_NAME', name: 'taken_name', path: ['name'] });
      // The same name in another project is fine.
      expect((await server.data(CreateSegment, { input: { projectId: other.projectId, name: 'taken_name', rules: [] } })).createSegment.__typename).toBe(
        'CreateSegmentPayload',
      );
      const second = await segment(projectId, [], 'second_name');
      const rename = await server.data(UpdateSegment, { input: { id: second.id, name: 'taken_name' } });
      expect(rename.updateSegment).toMatchObject({ code: 'DUPLICATE_NAME', path: ['name'] });

      const badName = await server.data(CreateSegment, { input: { projectId, name: 'pro users', rules: [] } });
      expect(badName.createSegment).toMatchObject({ __typename: 'ValidationError', code: 'INVALID_NAME', path: ['name'] });
      const noProject = await server.data(CreateSegment, { input: { projectId: globalId('Project', 999999), name: 'x', rules: [] } });
      expect(noProject.createSegment).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
      const noSegment = await server.data(UpdateSegment, { input: { id: globalId('Segment', 999999), name: 'y' } });
      expect(noSegment.updateSegment).toMatchObject({ code: 'NOT_FOUND', path: ['id'] });

      const list = await server.data(Segments, { id: projectId, first: 500 });
      const names = list.project?.segments.edges.map((edge) => edge.node.name);
      expect(names?.filter((name) => name === 'taken_name')).toHaveLength(1);
      expect(names).not.toContain('pro users');
      expect((await server.data(Node, { id: first.id })).node).toMatchObject({ name: 'taken_name' });
    });

    it.each([
      ['an unknown operator', [{ type: 'ALL', conditions: [{ property: 'a', operator: 'LIKE', value: 'x' }] }], ['rules', '0', 'conditions', '0', 'operator']],
      ['an unknown rule type', [{ type: 'SOME', conditions: [] }], ['rules', '0', 'type']],
      ['a missing property', [{ type: 'ALL', conditions: [{ operator: 'EQUAL', value: 'x' }] }], ['rules', '0', 'conditions', '0', 'property']],
      ['a REGEX that does not compile', [{ type: 'ALL', conditions: [{ property: 'a', operator: 'REGEX', value: '([a-' }] }], ['rules', '0', 'conditions', '0', 'value']],
      ['a MODULO of the wrong form', [{ type: 'ALL', conditions: [{ property: 'a', operator: 'MODULO', value: '3' }] }], ['rules', '0', 'conditions', '0', 'value']],
      ['a PERCENTAGE_SPLIT that is no number', [{ type: 'ALL', conditions: [{ property: 'a', operator: 'PERCENTAGE_SPLIT', value: 'ten' }] }], ['rules', '0', 'conditions', '0', 'value']],
      ['rules that are not a list', { type: 'ALL' }, ['rules']],
      ['more than 100 conditions', [{ type: 'ALL', conditions: Array.from({ length: 101 }, () => ({ property: 'a', operator: 'EQUAL', value: 'x' })) }], ['rules']],
    ])('refuses %s with INVALID_SEGMENT_RULES and its path, on create and update', async (_what, rules, path) => {
      const created = await server.data(CreateSegment, { input: { projectId, name: unique('bad'), rules } });
      expect(created.createSegment).toMatchObject({ __typename: 'SegmentRulesError', code: 'INVALID_SEGMENT_RULES', path });
      if (created.createSegment.__typename === 'SegmentRulesError') expect(created.createSegment.problems[0].path).toEqual(path);
      const kept = await segment(projectId, proInCa);
      const updated = await server.data(UpdateSegment, { input: { id: kept.id, rules } });
      expect(updated.updateSegment).toMatchObject({ code: 'INVALID_SEGMENT_RULES', path });
      expect((await server.data(Node, { id: kept.id })).node).toMatchObject({ name: kept.name });
    });

    it('refuses nesting deeper than 10', async () => {
      let rule: Record<string, unknown> = { type: 'ALL', conditions: [] };
      for (let i = 0; i < 10; i++) rule = { type: 'ALL', conditions: [], rules: [rule] };
      const deep = await server.data(CreateSegment, { input: { projectId, name: unique('deep'), rules: [rule] } });
      expect(deep.createSegment).toMatchObject({ code: 'INVALID_SEGMENT_RULES' });
    });
  });

  describe('segment overrides', () => {
    it('upserts overrides in priority order, with their own weights, and removes them', async () => {
      const target = await feature(projectId, [{ key: 'a', defaultWeight: 50 }, { key: 'b' }]);
      const production = environments[1];
      const state = target.states.find((s) => s.environment.id === production.id)!;
      const first = await segment(projectId);
      const second = await segment(projectId);
      announced.length = 0;

      const made = await server.data(SetSegmentOverride, {
        input: { environmentId: production.id, featureId: target.id, segmentId: first.id, enabled: true, value: { color: 'green' } },
      });
      expect(made.setSegmentOverride).toMatchObject({
        __typename: 'SetSegmentOverridePayload',
        segmentOverride: { enabled: true, value: { color: 'green' }, priority: 1, segment: { name: first.name }, allocations: [] },
      });
      expect(announced).toContainEqual([Number(Buffer.from(production.id, 'base64').toString().split(':')[1])]);
      const next = await server.data(SetSegmentOverride, {
        input: {
          environmentId: production.id,
          featureId: target.id,
          segmentId: second.id,
          allocations: [
            { optionId: target.options[0].id, weight: 70 },
            { optionId: target.options[1].id, weight: 30 },
          ],
        },
      });
      expect(next.setSegmentOverride).toMatchObject({
        segmentOverride: { enabled: false, value: null, priority: 2, allocations: [{ option: { key: 'a' }, weight: 70 }, { option: { key: 'b' }, weight: 30 }] },
      });
      if (next.setSegmentOverride.__typename !== 'SetSegmentOverridePayload') throw new Error();

      // Upsert by (environment, feature, segment): the same row, changed; what is left out stays.
      const moved = await server.data(SetSegmentOverride, {
        input: { environmentId: production.id, featureId: target.id, segmentId: first.id, priority: 5 },
      });
      expect(moved.setSegmentOverride).toMatchObject({ segmentOverride: { enabled: true, value: { color: 'green' }, priority: 5 } });
      if (moved.setSegmentOverride.__typename !== 'SetSegmentOverridePayload' || made.setSegmentOverride.__typename !== 'SetSegmentOverridePayload') {
        throw new Error();
      }
      expect(moved.setSegmentOverride.segmentOverride.id).toBe(made.setSegmentOverride.segmentOverride.id);

      const listed = await server.data(StateOverrides, { id: state.id });
      expect(listed.node).toEqual({
        segmentOverrides: [
          { id: next.setSegmentOverride.segmentOverride.id, priority: 2, enabled: false, value: null, segment: { name: second.name }, allocations: [{ weight: 70 }, { weight: 30 }] },
          expect.objectContaining({ priority: 5, segment: { name: first.name } }),
        ],
      });
      // The other environment has none.
      const development = target.states.find((s) => s.environment.id === environments[0].id)!;
      expect((await server.data(StateOverrides, { id: development.id })).node).toEqual({ segmentOverrides: [] });

      const cleared = await server.data(SetSegmentOverride, {
        input: { environmentId: production.id, featureId: target.id, segmentId: second.id, allocations: [] },
      });
      expect(cleared.setSegmentOverride).toMatchObject({ segmentOverride: { allocations: [] } });

      const removed = await server.data(RemoveSegmentOverride, { input: { id: next.setSegmentOverride.segmentOverride.id } });
      expect(removed.removeSegmentOverride).toMatchObject({ segmentOverride: { priority: 2 } });
      const again = await server.data(RemoveSegmentOverride, { input: { id: next.setSegmentOverride.segmentOverride.id } });
      expect(again.removeSegmentOverride).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND', path: ['id'] });
      expect((await server.data(StateOverrides, { id: state.id })).node).toEqual({ segmentOverrides: [expect.objectContaining({ priority: 5 })] });
    });

    it('refuses a taken priority, bad weights, strangers and unknown ids, changing nothing', async () => {
      const target = await feature(projectId, [{ key: 'a' }, { key: 'b' }]);
      const otherOfProject = await feature(projectId, [{ key: 'c' }]);
      const env = environments[0];
      const state = target.states.find((s) => s.environment.id === env.id)!;
      const first = await segment(projectId);
      const second = await segment(projectId);
      await server.data(SetSegmentOverride, { input: { environmentId: env.id, featureId: target.id, segmentId: first.id, priority: 3, value: 'kept' } });
      const base = { environmentId: env.id, featureId: target.id, segmentId: second.id };

      const cases: [Record<string, unknown>, Record<string, unknown>][] = [
        [{ priority: 3 }, { __typename: 'DuplicatePriorityError', code: 'DUPLICATE_PRIORITY', priority: 3, path: ['priority'] }],
        [{ allocations: [{ optionId: target.options[0].id, weight: 100.5 }] }, { code: 'INVALID_WEIGHT', path: ['allocations', '0', 'weight'] }],
        [{ allocations: [{ optionId: target.options[0].id, weight: 12.345 }] }, { code: 'INVALID_WEIGHT', path: ['allocations', '0', 'weight'] }],
        [
          { allocations: [{ optionId: target.options[0].id, weight: 60 }, { optionId: target.options[1].id, weight: 40.01 }] },
          { __typename: 'WeightsError', code: 'WEIGHTS_EXCEED_100', total: 100.01, environmentName: env.name, path: ['allocations'] },
        ],
        [{ allocations: [{ optionId: otherOfProject.options[0].id, weight: 10 }] }, { code: 'NOT_FOUND', path: ['allocations', '0', 'optionId'] }],
        [{ allocations: [{ optionId: other.optionId, weight: 10 }] }, { code: 'NOT_FOUND', path: ['allocations', '0', 'optionId'] }],
        [{ featureId: other.featureId }, { code: 'NOT_FOUND', path: ['featureId'] }],
        [{ segmentId: other.segmentId }, { code: 'NOT_FOUND', path: ['segmentId'] }],
        [{ environmentId: other.environmentId }, { code: 'NOT_FOUND', path: ['featureId'] }],
        [{ environmentId: globalId('Environment', 999999) }, { code: 'NOT_FOUND', path: ['environmentId'] }],
        [{ segmentId: globalId('Segment', 999999) }, { code: 'NOT_FOUND', path: ['segmentId'] }],
      ];
      for (const [change, expected] of cases) {
        const result = await server.data(SetSegmentOverride, { input: { ...base, ...change } as never });
        expect(result.setSegmentOverride, JSON.stringify(change)).toMatchObject(expected);
      }
      // Exactly 100 is fine.
      const full = await server.data(SetSegmentOverride, {
        input: { ...base, priority: 4, allocations: [{ optionId: target.options[0].id, weight: 60 }, { optionId: target.options[1].id, weight: 40 }] },
      });
      expect(full.setSegmentOverride.__typename).toBe('SetSegmentOverridePayload');
      const listed = await server.data(StateOverrides, { id: state.id });
      expect(listed.node).toEqual({
        segmentOverrides: [
          expect.objectContaining({ priority: 3, value: 'kept', segment: { name: first.name } }),
          expect.objectContaining({ priority: 4, allocations: [{ weight: 60 }, { weight: 40 }] }),
        ],
      });
    });

    it('answers one DUPLICATE_PRIORITY-free winner when writes race for a priority', async () => {
      const target = await feature(projectId);
      const env = environments[1];
      const state = target.states.find((s) => s.environment.id === env.id)!;
      const racers = await Promise.all(Array.from({ length: 6 }, () => segment(projectId)));
      const results = await Promise.all(
        racers.map((racer) =>
          server.data(SetSegmentOverride, { input: { environmentId: env.id, featureId: target.id, segmentId: racer.id, priority: 7 } }),
        ),
      );
      const kinds = results.map((result) => result.setSegmentOverride.__typename).sort();
      expect(kinds).toEqual(['DuplicatePriorityError', 'DuplicatePriorityError', 'DuplicatePriorityError', 'DuplicatePriorityError', 'DuplicatePriorityError', 'SetSegmentOverridePayload']);
      expect((await server.data(StateOverrides, { id: state.id })).node).toEqual({ segmentOverrides: [expect.objectContaining({ priority: 7 })] });
    });

    it('deletes a segment in use only with force, removing its overrides in the same write', async () => {
      const target = await feature(projectId);
      const used = await segment(projectId);
      for (const env of environments) {
        await server.data(SetSegmentOverride, { input: { environmentId: env.id, featureId: target.id, segmentId: used.id } });
      }
      const refused = await server.data(DeleteSegment, { input: { id: used.id } });
      expect(refused.deleteSegment).toMatchObject({ __typename: 'SegmentInUseError', code: 'SEGMENT_IN_USE', overrides: 2, path: ['id'] });
      expect((await server.data(Node, { id: used.id })).node).toMatchObject({ name: used.name });

      const forced = await server.data(DeleteSegment, { input: { id: used.id, force: true } });
      expect(forced.deleteSegment).toMatchObject({ __typename: 'DeleteSegmentPayload', segment: { name: used.name }, removedOverrides: 2 });
      expect((await server.data(Node, { id: used.id })).node).toBeNull();
      for (const state of target.states) expect((await server.data(StateOverrides, { id: state.id })).node).toEqual({ segmentOverrides: [] });

      const unused = await segment(projectId);
      expect((await server.data(DeleteSegment, { input: { id: unused.id } })).deleteSegment).toMatchObject({ removedOverrides: 0 });
      expect((await server.data(DeleteSegment, { input: { id: unused.id } })).deleteSegment).toMatchObject({ code: 'NOT_FOUND', path: ['id'] });
    });

    it('leaves no override of a deleted segment when the delete races new overrides', async () => {
      const target = await feature(projectId);
      for (let round = 0; round < 3; round++) {
        const raced = await segment(projectId);
        const [deleted, ...set] = await Promise.all([
          server.data(DeleteSegment, { input: { id: raced.id } }),
          ...environments.map((env) =>
            server.data(SetSegmentOverride, { input: { environmentId: env.id, featureId: target.id, segmentId: raced.id, priority: 100 + round } }),
          ),
        ]);
        const stored = await Promise.all(target.states.map(async (state) => (await server.data(StateOverrides, { id: state.id })).node));
        const overridesOfRaced = stored.flatMap((node) => (node && 'segmentOverrides' in node ? node.segmentOverrides : [])).filter((o) => o.segment.name === raced.name);
        if (deleted.deleteSegment.__typename === 'DeleteSegmentPayload') {
          expect(overridesOfRaced).toEqual([]);
          for (const result of set) {
            expect(['SetSegmentOverridePayload', 'NotFoundError']).toContain(result.setSegmentOverride.__typename);
          }
          expect(set.every((result) => result.setSegmentOverride.__typename === 'NotFoundError')).toBe(true);
        } else {
          expect(deleted.deleteSegment).toMatchObject({ code: 'SEGMENT_IN_USE' });
          expect(overridesOfRaced.length).toBe(set.filter((result) => result.setSegmentOverride.__typename === 'SetSegmentOverridePayload').length);
          expect(overridesOfRaced.length).toBeGreaterThan(0);
        }
      }
    });
  });

  describe('identities', () => {
    it('sets identity overrides (creating the identity), shows traits, matched segments and overrides, removes them', async () => {
      const target = await feature(projectId);
      const env = environments[1];
      const matching = await segment(projectId, proInCa);
      const identifier = unique('user');
      announced.length = 0;

      const made = await server.data(SetIdentityOverride, {
        input: { environmentId: env.id, identifier, feature: ` ${target.name} `, enabled: true, value: 'for-you' },
      });
      expect(made.setIdentityOverride).toMatchObject({
        identityOverride: { enabled: true, value: 'for-you', feature: { name: target.name }, identity: { identifier } },
      });
      if (made.setIdentityOverride.__typename !== 'SetIdentityOverridePayload') throw new Error();
      expect(announced.length).toBe(1);
      const changed = await server.data(SetIdentityOverride, { input: { environmentId: env.id, identifier, feature: target.name, enabled: false } });
      expect(changed.setIdentityOverride).toMatchObject({ identityOverride: { id: made.setIdentityOverride.identityOverride.id, enabled: false, value: 'for-you' } });

      // Traits come from flags requests; the identity then matches the segment.
      await server.data(Flags, { identifier, traits: { plan: 'pro', country: 'CA' } }, { environmentKey: env.key });
      const seen = await server.data(IdentityOf, { environmentId: env.id, identifier });
      expect(seen.node).toMatchObject({
        identity: {
          identifier,
          traits: { plan: 'pro', country: 'CA' },
          overrides: [{ enabled: false, value: 'for-you', feature: { name: target.name } }],
        },
      });
      const matchedNames = (seen.node && 'identity' in seen.node ? seen.node.identity?.segments : [])?.map((s) => s.name);
      expect(matchedNames).toContain(matching.name);
      await server.data(Flags, { identifier, traits: { plan: 'free' } }, { environmentKey: env.key });
      const later = await server.data(IdentityOf, { environmentId: env.id, identifier });
      expect((later.node && 'identity' in later.node ? later.node.identity?.segments : [])?.map((s) => s.name)).not.toContain(matching.name);

      // Other environments do not share the identity.
      expect((await server.data(IdentityOf, { environmentId: environments[0].id, identifier })).node).toEqual({ identity: null });
      expect((await server.data(IdentityOf, { environmentId: env.id, identifier: '' })).node).toEqual({ identity: null });

      const removed = await server.data(RemoveIdentityOverride, { input: { id: made.setIdentityOverride.identityOverride.id } });
      expect(removed.removeIdentityOverride).toMatchObject({ identityOverride: { enabled: false } });
      const again = await server.data(RemoveIdentityOverride, { input: { id: made.setIdentityOverride.identityOverride.id } });
      expect(again.removeIdentityOverride).toMatchObject({ code: 'NOT_FOUND', path: ['id'] });
      expect((await server.data(IdentityOf, { environmentId: env.id, identifier })).node).toMatchObject({ identity: { overrides: [] } });
    });

    it('refuses bad identifiers, unknown features and environments, creating nothing', async () => {
      const env = environments[0];
      const target = await feature(projectId);
      const cases: [Record<string, unknown>, Record<string, unknown>][] = [
        [{ identifier: '' }, { code: 'INVALID_IDENTIFIER', path: ['identifier'] }],
        [{ identifier: 'x'.repeat(2001) }, { code: 'INVALID_IDENTIFIER', path: ['identifier'] }],
        [{ feature: 'no_such_feature' }, { code: 'FEATURE_NOT_FOUND', path: ['feature'] }],
        [{ feature: 'not a name' }, { code: 'FEATURE_NOT_FOUND', path: ['feature'] }],
        [{ environmentId: other.environmentId }, { code: 'FEATURE_NOT_FOUND', path: ['feature'] }],
        [{ environmentId: globalId('Environment', 999999) }, { code: 'NOT_FOUND', path: ['environmentId'] }],
      ];
      const identifier = unique('nobody');
      for (const [change, expected] of cases) {
        const result = await server.data(SetIdentityOverride, {
          input: { environmentId: env.id, identifier, feature: target.name, enabled: true, ...change } as never,
        });
        expect(result.setIdentityOverride, JSON.stringify(change)).toMatchObject(expected);
      }
      expect((await server.data(IdentityOf, { environmentId: env.id, identifier })).node).toEqual({ identity: null });
    });

    it('keeps one override per identity and feature when writes race', async () => {
      const target = await feature(projectId);
      const env = environments[0];
      const identifier = unique('racer');
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) => server.data(SetIdentityOverride, { input: { environmentId: env.id, identifier, feature: target.name, value: i } })),
      );
      expect(results.every((result) => result.setIdentityOverride.__typename === 'SetIdentityOverridePayload')).toBe(true);
      const seen = await server.data(IdentityOf, { environmentId: env.id, identifier });
      expect(seen.node && 'identity' in seen.node ? seen.node.identity?.overrides : []).toHaveLength(1);
    });
  });

  describe('access', () => {
    it('lets analytics read and nobody but admins write; client keys get nothing', async () => {
      const target = await feature(projectId);
      const seg = await segment(projectId);
      const env = environments[0];
      const identifier = unique('watched');
      const set = await server.data(SetSegmentOverride, { input: { environmentId: env.id, featureId: target.id, segmentId: seg.id } });
      const idOverride = await server.data(SetIdentityOverride, { input: { environmentId: env.id, identifier, feature: target.name, enabled: true } });
      if (set.setSegmentOverride.__typename !== 'SetSegmentOverridePayload') throw new Error();
      if (idOverride.setIdentityOverride.__typename !== 'SetIdentityOverridePayload') throw new Error();
      const ids = [seg.id, set.setSegmentOverride.segmentOverride.id, idOverride.setIdentityOverride.identityOverride.id, idOverride.setIdentityOverride.identityOverride.identity.id];

      const analytics = { token: server.analyticsToken };
      for (const id of ids) expect((await server.data(Node, { id }, analytics)).node).toMatchObject({ id });
      expect((await server.data(Segments, { id: projectId }, analytics)).project?.segments.totalCount).toBeGreaterThan(0);
      expect((await server.data(IdentityOf, { environmentId: env.id, identifier }, analytics)).node).toMatchObject({ identity: { identifier } });

      const client = { environmentKey: env.key };
      for (const id of ids) {
        const read = await server.request(Node, { id }, client);
        expect(read.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      }
      const clientList = await server.request(Segments, { id: projectId }, client);
      expect(clientList.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const anonymous = await server.request(Segments, { id: projectId }, { headers: {} });
      expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

      const writes = [
        () => server.request(CreateSegment, { input: { projectId, name: unique('nope'), rules: [] } }, who),
        () => server.request(UpdateSegment, { input: { id: seg.id, name: unique('nope') } }, who),
        () => server.request(DeleteSegment, { input: { id: seg.id, force: true } }, who),
        () => server.request(SetSegmentOverride, { input: { environmentId: env.id, featureId: target.id, segmentId: seg.id, enabled: true } }, who),
        () => server.request(RemoveSegmentOverride, { input: { id: ids[1] } }, who),
        () => server.request(SetIdentityOverride, { input: { environmentId: env.id, identifier, feature: target.name, enabled: false } }, who),
        () => server.request(RemoveIdentityOverride, { input: { id: ids[2] } }, who),
      ];
      let who: { token?: string; environmentKey?: string } = analytics;
      for (const write of writes) expect((await write()).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      who = client;
      for (const write of writes) expect((await write()).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      // Nothing changed.
      for (const id of ids) expect((await server.data(Node, { id })).node).toMatchObject({ id });
      expect((await server.data(Node, { id: ids[1] })).node).toMatchObject({ priority: 1 });
      expect((await server.data(Node, { id: ids[2] })).node).toMatchObject({ enabled: true });
      expect((await server.data(Node, { id: seg.id })).node).toMatchObject({ name: seg.name });
    });
  });
});
