// Segments, segment overrides and identity overrides as `flags` serves them (SPEC.md section 8).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import { CreateSegment, RemoveIdentityOverride, SetIdentityOverride, SetSegmentOverride } from '../../test/helpers/documents.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { eventually } from '../../test/helpers/eventually.js';
import { databaseId } from '../../test/helpers/ids.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import { loadEvaluationConfig, sameEvaluationConfig, STATEMENTS_PER_LOAD } from './config.js';

const CreateProject = graphql(`
  mutation TevCreateProject($input: CreateProjectInput!) {
    createProject(input: $input) {
      __typename
      ... on CreateProjectPayload { project { id environments { id name key } } }
      ... on Error { code message }
    }
  }
`);

const CreateFeature = graphql(`
  mutation TevCreateFeature($input: CreateFeatureInput!) {
    createFeature(input: $input) {
      __typename
      ... on CreateFeaturePayload { feature { id name options { id key } } }
      ... on Error { code message }
    }
  }
`);

const OneFlag = graphql(`
  query TevFlag($name: String!, $identifier: String, $traits: JSON) {
    flag(name: $name, identifier: $identifier, traits: $traits) { name enabled value variant reason segment }
  }
`);

const RecordExposure = graphql(`
  mutation TevRecordExposure($input: RecordExposureInput!) {
    recordExposure(input: $input) {
      __typename
      ... on RecordExposurePayload { exposure { variantKey matchesAssignment } }
      ... on Error { code message }
    }
  }
`);

const FlagsRecording = graphql(`
  query TevFlagsRecording($identifier: String, $traits: JSON) {
    flags(identifier: $identifier, traits: $traits, recordExposures: true) { name variant segment }
  }
`);

const SegmentsOfProject = graphql(`
  query TevSegments($id: ID!) {
    project(id: $id) { segments(first: 5) { totalCount } }
  }
`);

type Environment = { id: string; name: string; key: string };

/** One condition per operator: traits that match it and traits that do not. */
const operatorCases: { operator: string; property?: string; value?: string; hit: Record<string, unknown>; miss: Record<string, unknown> }[] = [
  { operator: 'EQUAL', value: 'pro', hit: { t: 'pro' }, miss: { t: 'free' } },
  { operator: 'NOT_EQUAL', value: 'pro', hit: { t: 'free' }, miss: { t: 'pro' } },
  { operator: 'GREATER_THAN', value: '10', hit: { t: 11 }, miss: { t: 10 } },
  { operator: 'GREATER_THAN_INCLUSIVE', value: '10', hit: { t: 10 }, miss: { t: 9 } },
  { operator: 'LESS_THAN', value: '10', hit: { t: 9.5 }, miss: { t: 10 } },
  { operator: 'LESS_THAN_INCLUSIVE', value: '10', hit: { t: 10 }, miss: { t: 11 } },
  { operator: 'CONTAINS', value: 'bc', hit: { t: 'abcd' }, miss: { t: 'acbd' } },
  { operator: 'NOT_CONTAINS', value: 'bc', hit: { t: 'acbd' }, miss: { t: 'abcd' } },
  { operator: 'REGEX', value: '^[a-c]+\\d$', hit: { t: 'abc1' }, miss: { t: 'abd1' } },
  { operator: 'IN', value: 'CA,US', hit: { t: 'US' }, miss: { t: 'FR' } },
  { operator: 'IS_SET', hit: { t: 'x' }, miss: { u: 'x' } },
  { operator: 'IS_NOT_SET', hit: { u: 'x' }, miss: { t: 'x' } },
  { operator: 'MODULO', value: '3|1', hit: { t: 7 }, miss: { t: 8 } },
  { operator: 'GREATER_THAN', value: '1.2.3:semver', hit: { t: '1.10.0' }, miss: { t: '1.2.3' } },
  { operator: 'PERCENTAGE_SPLIT', property: '', value: '100', hit: {}, miss: {} },
  { operator: 'EQUAL', property: '$.identity.identifier', value: 'special', hit: {}, miss: {} },
];

describe.each(databaseKinds)('targeted evaluation on %s', (kind) => {
  let server: TestServer;
  let projectId: string;
  let production: Environment;
  let counter = 0;
  const unique = (prefix: string) => `${prefix}_${++counter}`;

  async function feature(options: { key: string; defaultWeight?: number }[] = []) {
    const { createFeature } = await server.data(CreateFeature, {
      input: { projectId, name: unique('feature'), initialValue: 'off', defaultEnabled: true, options: options.map((o) => ({ ...o, value: o.key })) },
    });
    if (createFeature.__typename !== 'CreateFeaturePayload') throw new Error(JSON.stringify(createFeature));
    return createFeature.feature;
  }

  async function segment(rules: unknown, name = unique('segment')) {
    const { createSegment } = await server.data(CreateSegment, { input: { projectId, name, rules } });
    if (createSegment.__typename !== 'CreateSegmentPayload') throw new Error(JSON.stringify(createSegment));
    return createSegment.segment;
  }

  async function override(featureId: string, segmentId: string, rest: Record<string, unknown>) {
    const { setSegmentOverride } = await server.data(SetSegmentOverride, {
      input: { environmentId: production.id, featureId, segmentId, enabled: true, ...rest },
    });
    if (setSegmentOverride.__typename !== 'SetSegmentOverridePayload') throw new Error(JSON.stringify(setSegmentOverride));
  }

  async function flag(from: TestServer, name: string, identifier?: string, traits?: Record<string, unknown>) {
    const { flag: result } = await from.data(OneFlag, { name, identifier, traits }, { environmentKey: production.key });
    return result!;
  }

  beforeAll(async () => {
    server = await startTestServer(kind);
    const { createProject } = await server.data(CreateProject, { input: { name: 'Targeted' } });
    if (createProject.__typename !== 'CreateProjectPayload') throw new Error(createProject.__typename);
    projectId = createProject.project.id;
    production = createProject.project.environments.find((e) => e.name === 'production') ?? createProject.project.environments[0];
  });
  afterAll(() => server?.close());

  it.each(operatorCases.map((c, i) => [`${c.operator} ${c.value ?? ''} #${i}`, c] as const))('serves a segment override on %s', async (_label, c) => {
    const f = await feature();
    const name = unique('op');
    const s = await segment([{ type: 'ALL', conditions: [{ property: c.property ?? 't', operator: c.operator, value: c.value ?? null }] }], name);
    await override(f.id, s.id, { value: 'hit' });
    const hitId = c.property === '$.identity.identifier' ? 'special' : unique('hit');
    expect(await flag(server, f.name, hitId, c.hit)).toEqual({
      name: f.name, enabled: true, value: 'hit', variant: null, reason: `TARGETING_MATCH; segment=${name}`, segment: name,
    });
    if (c.operator === 'PERCENTAGE_SPLIT') return;
    expect(await flag(server, f.name, unique('miss'), c.miss)).toEqual({ name: f.name, enabled: true, value: 'off', variant: null, reason: 'DEFAULT', segment: null });
    // Without an identity there are no traits: only IS_NOT_SET can match (as in Flagsmith's engine).
    if (c.operator !== 'IS_NOT_SET') expect(await flag(server, f.name)).toMatchObject({ value: 'off', reason: 'DEFAULT', segment: null });
  });

  it('lets the lower priority win between two matching segments', async () => {
    const f = await feature();
    const first = await segment([{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }] }]);
    const second = await segment([{ type: 'ANY', conditions: [{ property: 'country', operator: 'IN', value: 'CA,US' }] }]);
    await override(f.id, first.id, { value: 'first', priority: 2 });
    await override(f.id, second.id, { value: 'second', priority: 1 });
    expect(await flag(server, f.name, unique('both'), { plan: 'pro', country: 'CA' })).toMatchObject({ value: 'second', segment: second.name });
    expect(await flag(server, f.name, unique('pro'), { plan: 'pro', country: 'FR' })).toMatchObject({ value: 'first', segment: first.name });
    await override(f.id, first.id, { priority: 0 });
    expect(await flag(server, f.name, unique('both'), { plan: 'pro', country: 'CA' })).toMatchObject({ value: 'first', segment: first.name });
  });

  it("splits a segment's identities by the override's own weights", async () => {
    const f = await feature([{ key: 'a', defaultWeight: 100 }, { key: 'b', defaultWeight: 0 }]);
    const s = await segment([{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }] }]);
    const [a, b] = f.options;
    await override(f.id, s.id, { allocations: [{ optionId: a.id, weight: 25 }, { optionId: b.id, weight: 50 }] });
    const counts = new Map<string | null, number>();
    for (let i = 0; i < 200; i++) {
      const result = await flag(server, f.name, `split-${i}`, { plan: 'pro' });
      expect(result.segment).toBe(s.name);
      counts.set(result.variant, (counts.get(result.variant) ?? 0) + 1);
      if (result.variant === 'b') expect(result).toMatchObject({ value: 'b', reason: 'SPLIT; weight=50' });
      if (result.variant === 'control') expect(result).toMatchObject({ value: 'off', reason: `TARGETING_MATCH; segment=${s.name}` });
    }
    expect(counts.get('a')).toBeGreaterThan(25);
    expect(counts.get('a')).toBeLessThan(75);
    expect(counts.get('b')).toBeGreaterThan(70);
    expect(counts.get('b')).toBeLessThan(130);
    expect(counts.get('control')).toBeGreaterThan(25);
    // Outside the segment the feature state's weights still hold.
    expect(await flag(server, f.name, 'split-0', { plan: 'free' })).toMatchObject({ variant: 'a', segment: null });
  });

  it("records and checks exposures against the segment override's split, with the identity's stored traits", async () => {
    const f = await feature([{ key: 'a', defaultWeight: 100 }, { key: 'b', defaultWeight: 0 }]);
    const s = await segment([{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }] }]);
    await override(f.id, s.id, { allocations: [{ optionId: f.options[1].id, weight: 100 }] });
    const identifier = unique('exposed');
    const { flags } = await server.data(FlagsRecording, { identifier, traits: { plan: 'pro' } }, { environmentKey: production.key });
    expect(flags.find((x) => x.name === f.name)).toEqual({ name: f.name, variant: 'b', segment: s.name });
    const recorded = await server.services.prisma.exposure.findMany({ where: { identity: { identifier }, featureId: databaseId(f.id) } });
    expect(recorded.map((row) => row.variantKey)).toEqual(['b']);
    // Another process has not seen the identity: it must use its stored traits, not none.
    const fresh = await startTestServer(kind, { database: server.database, keepDatabase: true });
    try {
      for (const [variantKey, matches] of [['b', true], ['a', false]] as const) {
        const { recordExposure } = await fresh.data(RecordExposure, { input: { feature: f.name, identifier, variantKey } }, { environmentKey: production.key });
        expect(recordExposure).toMatchObject({ exposure: { variantKey, matchesAssignment: matches } });
      }
    } finally {
      await fresh.close();
    }
  });

  it('checks exposures of a feature nothing overrides here without reading the identity, and reads it for one an identity overrides', async () => {
    const plain = await feature([{ key: 'a', defaultWeight: 100 }, { key: 'b', defaultWeight: 0 }]);
    const overridden = await feature([{ key: 'a', defaultWeight: 100 }, { key: 'b', defaultWeight: 0 }]);
    const identifier = unique('reader');
    expect(await flag(server, plain.name, identifier, { plan: 'pro' })).toMatchObject({ variant: 'a' });
    const { setIdentityOverride } = await server.data(SetIdentityOverride, {
      input: { environmentId: production.id, identifier, feature: overridden.name, enabled: true, value: 'mine' },
    });
    if (setIdentityOverride.__typename !== 'SetIdentityOverridePayload') throw new Error(JSON.stringify(setIdentityOverride));
    // Another process, which has seen neither the identity nor its override.
    const fresh = await startTestServer(kind, { database: server.database, keepDatabase: true });
    try {
      const record = async (name: string) =>
        (await fresh.data(RecordExposure, { input: { feature: name, identifier, variantKey: 'a' } }, { environmentKey: production.key })).recordExposure;
      const before = fresh.counters.identityReads;
      expect(await record(plain.name)).toMatchObject({ exposure: { variantKey: 'a', matchesAssignment: true } });
      expect(fresh.counters.identityReads).toBe(before);
      // The identity's override serves no variant: only its stored row says so.
      expect(await record(overridden.name)).toMatchObject({ exposure: { variantKey: 'a', matchesAssignment: false } });
      expect(fresh.counters.identityReads).toBe(before + 1);
    } finally {
      await fresh.close();
    }
  });

  it('lets an identity override beat every segment, at once and until removed', async () => {
    const f = await feature();
    const s = await segment([{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }] }]);
    await override(f.id, s.id, { value: 'segment' });
    const identifier = unique('vip');
    expect(await flag(server, f.name, identifier, { plan: 'pro' })).toMatchObject({ value: 'segment', segment: s.name });
    const { setIdentityOverride } = await server.data(SetIdentityOverride, {
      input: { environmentId: production.id, identifier, feature: f.name, enabled: false, value: 'mine' },
    });
    if (setIdentityOverride.__typename !== 'SetIdentityOverridePayload') throw new Error(JSON.stringify(setIdentityOverride));
    // The identity was just read: the override must not wait for its cached copy to age.
    expect(await flag(server, f.name, identifier)).toEqual({ name: f.name, enabled: false, value: 'mine', variant: null, reason: 'IDENTITY_OVERRIDE', segment: null });
    const inherit = await server.data(SetIdentityOverride, {
      input: { environmentId: production.id, identifier, feature: f.name, enabled: true, value: null },
    });
    expect(inherit.setIdentityOverride.__typename).toBe('SetIdentityOverridePayload');
    expect(await flag(server, f.name, identifier)).toMatchObject({ enabled: true, value: 'off', reason: 'IDENTITY_OVERRIDE' });
    await server.data(RemoveIdentityOverride, { input: { id: (setIdentityOverride as { identityOverride: { id: string } }).identityOverride.id } });
    expect(await flag(server, f.name, identifier)).toMatchObject({ value: 'segment', segment: s.name });
  });

  it('serves consistent answers while overrides are edited concurrently', async () => {
    const f = await feature();
    const s = await segment([{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }] }]);
    const writes = Array.from({ length: 8 }, (_, i) => override(f.id, s.id, { value: `v${i}` }));
    const reads = Array.from({ length: 8 }, () => flag(server, f.name, unique('c'), { plan: 'pro' }));
    const [, answers] = await Promise.all([Promise.all(writes), Promise.all(reads)]);
    for (const answer of answers) expect(['off', ...Array.from({ length: 8 }, (_, i) => `v${i}`)]).toContain(answer.value);
    const last = await flag(server, f.name, unique('after'), { plan: 'pro' });
    const stored = await server.services.prisma.segmentOverride.findFirstOrThrow({ where: { segmentId: Number(Buffer.from(s.id, 'base64').toString().split(':')[1]) } });
    expect(last.value).toBe(stored.value);
  });

  it('serves a warm request with segments from memory: no config load, no identity statement', async () => {
    const f = await feature();
    const s = await segment([{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }] }]);
    await override(f.id, s.id, { value: 'x' });
    const identifier = unique('warm');
    expect(await flag(server, f.name, identifier, { plan: 'pro' })).toMatchObject({ value: 'x' });
    const before = { ...server.counters };
    expect(await flag(server, f.name, identifier, { plan: 'pro' })).toMatchObject({ value: 'x' });
    expect(server.counters).toEqual(before);
  });

  it('loads a config in a fixed number of statements, whatever the features, segments and overrides', async () => {
    const prisma = server.services.prisma;
    let statements = 0;
    const counting = new Proxy(prisma, {
      get(target, property) {
        const member = Reflect.get(target, property, target) as unknown;
        if (property === '$queryRaw') {
          return (...args: unknown[]) => {
            statements++;
            return (member as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return typeof member === 'function' ? (member as (...a: unknown[]) => unknown).bind(target) : member;
      },
    });
    const environmentId = databaseId(production.id);
    await loadEvaluationConfig(counting, environmentId);
    const before = statements;
    for (let i = 0; i < 3; i++) {
      const f = await feature([{ key: 'a', defaultWeight: 50 }]);
      const s = await segment([{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: `p${i}` }] }]);
      await override(f.id, s.id, { value: 'x', allocations: [{ optionId: f.options[0].id, weight: 10 }] });
    }
    statements = 0;
    const config = await loadEvaluationConfig(counting, environmentId);
    expect(statements).toBe(before);
    expect(statements).toBe(STATEMENTS_PER_LOAD);
    expect(config!.engine.segmentList.length).toBeGreaterThan(3);
  });

  it('loads an unchanged config as an interchangeable one, and tells any change apart, an identity override included', async () => {
    const environmentId = databaseId(production.id);
    const load = async () => (await loadEvaluationConfig(server.services.prisma, environmentId))!;
    const f = await feature([{ key: 'a', defaultWeight: 50 }]);
    const first = await load();
    const again = await load();
    expect(again).not.toBe(first);
    expect(sameEvaluationConfig(first, again)).toBe(true);
    // An identity's own override leaves the version as it is but changes the feature's `overridden`.
    const { setIdentityOverride } = await server.data(SetIdentityOverride, {
      input: { environmentId: production.id, identifier: unique('own'), feature: f.name, enabled: true, value: 'mine' },
    });
    if (setIdentityOverride.__typename !== 'SetIdentityOverridePayload') throw new Error(JSON.stringify(setIdentityOverride));
    const withIdentityOverride = await load();
    expect(withIdentityOverride.version).toBe(again.version);
    expect(sameEvaluationConfig(again, withIdentityOverride)).toBe(false);
    const s = await segment([{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'gold' }] }]);
    await override(f.id, s.id, { value: 'x' });
    expect(sameEvaluationConfig(withIdentityOverride, await load())).toBe(false);
  });

  it('gives client keys nothing of targeting', async () => {
    const response = await server.request(SegmentsOfProject, { id: projectId }, { environmentKey: production.key });
    expect(response.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  if (kind === 'postgres') {
    it('invalidates the config and cached identities of another server process', async () => {
      const other = await startTestServer(kind, { database: server.database, keepDatabase: true });
      try {
        const f = await feature();
        const identifier = unique('remote');
        expect(await flag(other, f.name, identifier, { plan: 'pro' })).toMatchObject({ value: 'off' });
        const s = await segment([{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }] }]);
        await override(f.id, s.id, { value: 'segment' });
        await eventually(async () => expect(await flag(other, f.name, identifier)).toMatchObject({ value: 'segment' }), { timeoutMs: 10_000 });
        await server.data(SetIdentityOverride, { input: { environmentId: production.id, identifier, feature: f.name, enabled: true, value: 'own' } });
        await eventually(async () => expect(await flag(other, f.name, identifier)).toMatchObject({ value: 'own', reason: 'IDENTITY_OVERRIDE' }), { timeoutMs: 10_000 });
      } finally {
        await other.close();
      }
    });
  }
});
