// `flags` remembers what it evaluated for a returning identity (src/evaluation/memo.ts): every
// change the flags depend on must show in the very next `flags` answer, whole lists compared.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import { CreateFeature, CreateProject, CreateSegment, RemoveIdentityOverride, SetIdentityOverride, SetSegmentOverride, UpdateFeatureState } from '../../test/helpers/documents.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { eventually } from '../../test/helpers/eventually.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import type { FlagResult } from '../engine/index.js';
import type { EvaluationConfig } from './config.js';
import type { KnownIdentity } from './identities.js';
import { EvaluationMemo } from './memo.js';

const Flags = graphql(`
  query MemoFlags($identifier: String, $traits: JSON, $recordExposures: Boolean) {
    flags(identifier: $identifier, traits: $traits, recordExposures: $recordExposures) { name enabled value variant reason segment }
  }
`);

const Exposures = graphql(`
  query MemoExposures($environmentId: ID!, $identifier: String!, $feature: String!) {
    exposures(environmentId: $environmentId, identifier: $identifier, feature: $feature, first: 100) { edges { cursor } }
  }
`);

type Environment = { id: string; name: string; key: string };
type Flag = { name: string; enabled: boolean; value: unknown; variant: string | null; reason: string; segment: string | null };

describe.each(databaseKinds)('remembered evaluations on %s', (kind) => {
  let server: TestServer;
  let projectId: string;
  let production: Environment;
  let counter = 0;
  const unique = (prefix: string) => `${prefix}_${++counter}`;

  async function feature(options: { key: string }[] = []) {
    const { createFeature } = await server.data(CreateFeature, {
      input: { projectId, name: unique('memo'), initialValue: 'off', defaultEnabled: true, options: options.map((o) => ({ ...o, value: o.key })) },
    });
    if (createFeature.__typename !== 'CreateFeaturePayload') throw new Error(JSON.stringify(createFeature));
    return createFeature.feature;
  }

  async function flags(from: TestServer, identifier?: string, traits?: Record<string, unknown>, recordExposures?: boolean): Promise<Map<string, Flag>> {
    const { flags: list } = await from.data(Flags, { identifier, traits, recordExposures }, { environmentKey: production.key });
    return new Map(list.map((flag) => [flag.name, flag]));
  }

  beforeAll(async () => {
    server = await startTestServer(kind);
    const { createProject } = await server.data(CreateProject, { input: { name: 'Memo' } });
    if (createProject.__typename !== 'CreateProjectPayload') throw new Error(createProject.__typename);
    projectId = createProject.project.id;
    production = createProject.project.environments.find((e) => e.name === 'production') ?? createProject.project.environments[0];
  });
  afterAll(() => server?.close());

  it('answers a returning identity from memory, equal to its first answer, with no statement', async () => {
    const f = await feature([{ key: 'a' }, { key: 'b' }, { key: 'c' }]);
    const identifier = unique('returning');
    const first = await flags(server, identifier, { plan: 'free' });
    const before = { ...server.counters };
    const again = await flags(server, identifier, { plan: 'free' });
    expect(server.counters).toEqual(before);
    expect([...again]).toEqual([...first]);
    expect(['a', 'b', 'c', 'control']).toContain(again.get(f.name)?.variant);
  });

  it('shows a config change to the next flags of a returning identity, and of no identity', async () => {
    const f = await feature();
    const identifier = unique('config');
    expect((await flags(server, identifier)).get(f.name)).toMatchObject({ enabled: true, value: 'off' });
    expect((await flags(server)).get(f.name)).toMatchObject({ enabled: true, value: 'off' });
    const { updateFeatureState } = await server.data(UpdateFeatureState, {
      input: { environmentId: production.id, featureId: f.id, enabled: false, value: 'on' },
    });
    expect(updateFeatureState.__typename).toBe('UpdateFeatureStatePayload');
    expect((await flags(server, identifier)).get(f.name)).toMatchObject({ enabled: false, value: 'on' });
    expect((await flags(server)).get(f.name)).toMatchObject({ enabled: false, value: 'on' });
  });

  it("shows a trait change to the same request, into a segment and out of it", async () => {
    const f = await feature();
    const { createSegment } = await server.data(CreateSegment, {
      input: { projectId, name: unique('pro'), rules: [{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }] }] },
    });
    if (createSegment.__typename !== 'CreateSegmentPayload') throw new Error(JSON.stringify(createSegment));
    const { setSegmentOverride } = await server.data(SetSegmentOverride, {
      input: { environmentId: production.id, featureId: f.id, segmentId: createSegment.segment.id, enabled: true, value: 'pro' },
    });
    expect(setSegmentOverride.__typename).toBe('SetSegmentOverridePayload');
    const identifier = unique('traits');
    expect((await flags(server, identifier, { plan: 'free' })).get(f.name)).toMatchObject({ value: 'off', segment: null });
    expect((await flags(server, identifier)).get(f.name)).toMatchObject({ value: 'off', segment: null });
    expect((await flags(server, identifier, { plan: 'pro' })).get(f.name)).toMatchObject({ value: 'pro', segment: createSegment.segment.name });
    expect((await flags(server, identifier)).get(f.name)).toMatchObject({ value: 'pro', segment: createSegment.segment.name });
    expect((await flags(server, identifier, { plan: null })).get(f.name)).toMatchObject({ value: 'off', segment: null });
  });

  it('shows an identity override to the next flags, and its removal', async () => {
    const f = await feature();
    const identifier = unique('override');
    expect((await flags(server, identifier)).get(f.name)).toMatchObject({ value: 'off', reason: 'DEFAULT' });
    const { setIdentityOverride } = await server.data(SetIdentityOverride, {
      input: { environmentId: production.id, identifier, feature: f.name, enabled: false, value: 'mine' },
    });
    if (setIdentityOverride.__typename !== 'SetIdentityOverridePayload') throw new Error(JSON.stringify(setIdentityOverride));
    expect((await flags(server, identifier)).get(f.name)).toEqual({ name: f.name, enabled: false, value: 'mine', variant: null, reason: 'IDENTITY_OVERRIDE', segment: null });
    await server.data(RemoveIdentityOverride, { input: { id: setIdentityOverride.identityOverride.id } });
    expect((await flags(server, identifier)).get(f.name)).toMatchObject({ value: 'off', reason: 'DEFAULT' });
  });

  it('records SERVER exposures of a remembered answer on every flags(recordExposures: true)', async () => {
    const f = await feature([{ key: 'a' }, { key: 'b' }]);
    const identifier = unique('exposed');
    const first = await flags(server, identifier, undefined, true);
    const second = await flags(server, identifier, undefined, true);
    expect(second.get(f.name)).toEqual(first.get(f.name));
    // flags answers after its exposures are written.
    const { exposures } = await server.data(Exposures, { environmentId: production.id, identifier, feature: f.name });
    expect(exposures.edges).toHaveLength(2);
  });

  if (kind === 'postgres') {
    it("shows another process's config and identity override changes to a returning identity there", async () => {
      const other = await startTestServer(kind, { database: server.database, keepDatabase: true });
      try {
        const f = await feature();
        const identifier = unique('remote');
        expect((await flags(other, identifier)).get(f.name)).toMatchObject({ enabled: true, value: 'off' });
        expect((await flags(other, identifier)).get(f.name)).toMatchObject({ enabled: true, value: 'off' });
        await server.data(UpdateFeatureState, { input: { environmentId: production.id, featureId: f.id, enabled: true, value: 'on' } });
        await eventually(async () => expect((await flags(other, identifier)).get(f.name)).toMatchObject({ value: 'on' }), { timeoutMs: 10_000 });
        await server.data(SetIdentityOverride, { input: { environmentId: production.id, identifier, feature: f.name, enabled: true, value: 'own' } });
        await eventually(async () => expect((await flags(other, identifier)).get(f.name)).toMatchObject({ value: 'own', reason: 'IDENTITY_OVERRIDE' }), {
          timeoutMs: 10_000,
        });
      } finally {
        await other.close();
      }
    });
  }
});

describe('EvaluationMemo bound', () => {
  // Only object identity matters to the memo: bare objects stand for configs and identities.
  const config = {} as EvaluationConfig;
  const identity = (identifier: string) => ({ id: 1, identifier, traits: {}, overrides: new Map() }) as KnownIdentity;
  const evaluated = (n: number) => ({ flags: Array.from({ length: n }, () => ({ name: 'f', enabled: true, value: null, reason: 'DEFAULT', variant: null })), served: [] });

  it('holds at most its number of flags, forgetting the least recently evaluated identities first', () => {
    const memo = new EvaluationMemo<FlagResult, never>(1_000);
    const identities = Array.from({ length: 12 }, (_, i) => identity(`u${i}`));
    identities.forEach((one, i) => memo.set(config, one, `1:u${i}`, evaluated(100)));
    const kept = identities.filter((one, i) => memo.get(config, one, `1:u${i}`) !== undefined);
    expect(kept.length * 100).toBeLessThanOrEqual(1_000);
    expect(kept.length).toBeGreaterThanOrEqual(8);
    expect(memo.get(config, identities[11], '1:u11')).toBeDefined();
    expect(memo.get(config, identities[0], '1:u0')).toBeUndefined();
    // Another config object, or another identity object under the same key, is not answered.
    expect(memo.get({} as EvaluationConfig, identities[11], '1:u11')).toBeUndefined();
    expect(memo.get(config, identity('u11'), '1:u11')).toBeUndefined();
  });
});
