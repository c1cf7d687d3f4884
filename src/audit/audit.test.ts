// The audit log through GraphQL over HTTP (SPEC.md section 11). The list of mutations comes
// from the schema itself (introspection): each one needs a case below, or the test fails, and
// each admin mutation must write exactly one entry naming it, its target and its caller.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { CreateFeature, CreateProject } from '../../test/helpers/documents.js';
import { startTestServer, type Credentials, type TestServer } from '../../test/helpers/server.js';

const AuditLog = graphql(`
  query AuditLog($targetId: ID, $first: Int, $after: String) {
    auditLog(targetId: $targetId, first: $first, after: $after) {
      edges { cursor node { id at actor { tokenId name } action targetType targetId before after } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

const AuditNode = graphql(`
  query AuditNode($id: ID!) {
    node(id: $id) { __typename ... on AuditEntry { action targetId } }
  }
`);

const AuditCreateToken = graphql(`
  mutation AuditCreateToken($name: String!) {
    createApiToken(input: { name: $name, scopes: [ADMIN] }) {
      __typename
      ... on CreateApiTokenPayload { secret token { id name } }
      ... on Error { code message }
    }
  }
`);

const Introspect = graphql(`
  query AuditIntrospect {
    __schema {
      mutationType { fields { name args { name type { kind name ofType { kind name } } } type { kind name ofType { kind name } } } }
      types { name kind interfaces { name } possibleTypes { name } fields { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } }
    }
  }
`);

type TypeRef = { kind: string; name?: string | null; ofType?: TypeRef | null } | null | undefined;
const namedType = (type: TypeRef): string => (type?.ofType ? namedType(type.ofType) : (type?.name ?? ''));

interface Called {
  typename: string;
  /** The global id of the node the success payload names (its first Node field), if any. */
  id: string | null;
  code?: string;
}

type Input = Record<string, unknown>;

interface AdminCase {
  caller: 'admin';
  targetType: string;
  /** Sets up what the call needs (its own mutations are audited too, before the count starts). */
  input: () => Promise<Input>;
  /** More about the one entry the call wrote. */
  check?: (entry: Entry) => void;
}

interface ClientCase {
  caller: 'client';
  input: () => Promise<Input>;
}

type Entry = {
  id: string;
  at: string;
  actor: { tokenId: string | null; name: string };
  action: string;
  targetType: string;
  targetId: string;
  before: unknown;
  after: unknown;
};

describe.each(databaseKinds)('audit log on %s', (kind) => {
  let server: TestServer;
  /** Every mutation of the schema: its input type and the generated document that calls it. */
  const mutations = new Map<string, { document: string }>();
  /** The token the calls are made with. */
  const tester = { id: '', secret: '', name: 'audit tester' };
  const fixture = {
    projectId: '',
    development: { id: '', key: '' },
    production: { id: '', key: '' },
    featureId: '',
    optionA: '',
    optionB: '',
    segmentId: '',
  };
  let counter = 0;
  const unique = (prefix: string) => `${prefix}_${++counter}`;

  beforeAll(async () => {
    server = await startTestServer(kind);
    const { __schema } = await server.data(Introspect, {});
    const types = new Map(__schema.types.map((type) => [type.name, type]));
    const implementsNode = (name: string) => types.get(name)?.interfaces?.some((i) => i.name === 'Node') ?? false;
    for (const field of __schema.mutationType?.fields ?? []) {
      const inputType = namedType(field.args.find((arg) => arg.name === 'input')?.type);
      const result = types.get(namedType(field.type));
      const payload = (result?.possibleTypes ?? []).map((t) => t.name).find((name) => name?.endsWith('Payload'));
      const nodeField = payload ? types.get(payload)?.fields?.find((f) => implementsNode(namedType(f.type))) : undefined;
      const success = payload && nodeField ? ` ... on ${payload} { ${nodeField.name} { id } }` : '';
      mutations.set(field.name, {
        document: `mutation Call($input: ${inputType}!) { result: ${field.name}(input: $input) { __typename ... on Error { code message }${success} } }`,
      });
    }

    const created = await server.data(AuditCreateToken, { name: tester.name });
    if (created.createApiToken.__typename !== 'CreateApiTokenPayload') throw new Error('no tester token');
    Object.assign(tester, { id: created.createApiToken.token.id, secret: created.createApiToken.secret });

    const project = (await server.data(CreateProject, { input: { name: 'AuditShop' } })).createProject;
    if (project.__typename !== 'CreateProjectPayload') throw new Error('no project');
    fixture.projectId = project.project.id;
    const [development, production] = project.project.environments;
    fixture.development = { id: development.id, key: development.key };
    fixture.production = { id: production.id, key: production.key };
    const feature = (
      await server.data(CreateFeature, {
        input: {
          projectId: fixture.projectId,
          name: 'banner',
          initialValue: 'plain',
          options: [
            { key: 'a', value: 'A', defaultWeight: 30 },
            { key: 'b', value: 'B', defaultWeight: 30 },
          ],
        },
      })
    ).createFeature;
    if (feature.__typename !== 'CreateFeaturePayload') throw new Error('no feature');
    fixture.featureId = feature.feature.id;
    [fixture.optionA, fixture.optionB] = feature.feature.options.map((option) => option.id);
    fixture.segmentId = (await succeed('createSegment', { projectId: fixture.projectId, name: 'beta', rules: [] })).id!;
  });
  afterAll(() => server?.close());

  /** Calls a mutation with its generated document. */
  async function call(name: string, input: Input, as: Credentials = { token: tester.secret }): Promise<Called> {
    const mutation = mutations.get(name);
    if (!mutation) throw new Error(`no mutation ${name} in the schema`);
    const response = await server.post({ query: mutation.document, variables: { input } }, headersOf(as));
    const body = (await response.json()) as { data?: { result: Record<string, unknown> & { __typename: string } }; errors?: unknown };
    if (!body.data) throw new Error(`${name}: ${JSON.stringify(body.errors)}`);
    const { result } = body.data;
    const node = Object.values(result).find((value): value is { id: string } => typeof value === 'object' && value !== null && 'id' in value);
    return { typename: result.__typename, id: node?.id ?? null, code: result.code as string | undefined };
  }

  function headersOf(as: Credentials): Record<string, string> {
    return {
      ...(as.token ? { authorization: `Bearer ${as.token}` } : {}),
      ...(as.environmentKey ? { 'x-environment-key': as.environmentKey } : {}),
    };
  }

  /** Calls a mutation that must succeed; answers what it made or changed. */
  async function succeed(name: string, input: Input): Promise<Called> {
    const called = await call(name, input);
    if (!called.typename.endsWith('Payload')) throw new Error(`${name} failed: ${called.typename} ${called.code}`);
    return called;
  }

  async function newestEntries(first = 20): Promise<Entry[]> {
    const { auditLog } = await server.data(AuditLog, { first });
    return auditLog.edges.map((edge) => edge.node as Entry);
  }

  /** Runs `work` and answers what it answered and the entries it wrote (newest first). */
  async function entriesWrittenBy<T>(work: () => Promise<T>): Promise<[T, Entry[]]> {
    const before = new Set((await newestEntries()).map((entry) => entry.id));
    const result = await work();
    return [result, (await newestEntries()).filter((entry) => !before.has(entry.id))];
  }

  async function newFeature(options = [{ key: 'x', value: 'X', defaultWeight: 40 }, { key: 'y', value: 'Y', defaultWeight: 40 }]) {
    return (await succeed('createFeature', { projectId: fixture.projectId, name: unique('feature'), options })).id!;
  }

  async function runningExperiment() {
    const featureId = await newFeature();
    const feature = (await server.data(FeatureName, { id: featureId })).node;
    const name = feature?.__typename === 'Feature' ? feature.name : '';
    const experimentId = (await succeed('createExperiment', { environmentId: fixture.development.id, feature: name, name: unique('experiment') })).id!;
    await succeed('startExperiment', { id: experimentId });
    return { experimentId, featureId };
  }

  const cases: Record<string, AdminCase | ClientCase> = {
    createApiToken: { caller: 'admin', targetType: 'ApiToken', input: async () => ({ name: 'warehouse job', scopes: ['ANALYTICS'] }),
      check: (entry) => {
        expect(entry.before).toBeNull();
        expect(entry.after).toMatchObject({ name: 'warehouse job', scopes: ['ANALYTICS'], revokedAt: null });
        // Not even the hash of a secret goes into the log.
        expect(JSON.stringify(entry.after)).not.toContain('tokenHash');
      } },
    revokeApiToken: { caller: 'admin', targetType: 'ApiToken',
      input: async () => ({ id: (await succeed('createApiToken', { name: unique('doomed'), scopes: ['ANALYTICS'] })).id }),
      check: (entry) => {
        expect(entry.before).toMatchObject({ revokedAt: null });
        expect(entry.after).toMatchObject({ revokedAt: expect.any(String) });
      } },
    createProject: { caller: 'admin', targetType: 'Project', input: async () => ({ name: unique('Other') }),
      check: (entry) => expect(entry.after).toMatchObject({ name: expect.stringMatching(/^Other_/) }) },
    createEnvironment: { caller: 'admin', targetType: 'Environment', input: async () => ({ projectId: fixture.projectId, name: unique('staging') }) },
    createFeature: { caller: 'admin', targetType: 'Feature',
      input: async () => ({ projectId: fixture.projectId, name: unique('hero'), options: [{ key: 'bold', value: 1, defaultWeight: 10 }] }),
      check: (entry) => expect(entry.after).toMatchObject({ name: expect.stringMatching(/^hero_/), options: [{ key: 'bold', defaultWeight: 10 }] }) },
    updateFeature: { caller: 'admin', targetType: 'Feature', input: async () => ({ id: fixture.featureId, description: 'the home banner' }),
      check: (entry) => {
        expect(entry.before).toMatchObject({ name: 'banner', description: null });
        expect(entry.after).toMatchObject({ name: 'banner', description: 'the home banner' });
      } },
    archiveFeature: { caller: 'admin', targetType: 'Feature', input: async () => ({ id: await newFeature([]) }),
      check: (entry) => {
        expect(entry.before).toMatchObject({ archivedAt: null });
        expect(entry.after).toMatchObject({ archivedAt: expect.any(String) });
      } },
    createMultivariateOption: { caller: 'admin', targetType: 'MultivariateOption',
      input: async () => ({ featureId: fixture.featureId, key: 'c', value: 'C', defaultWeight: 10 }) },
    updateMultivariateOption: { caller: 'admin', targetType: 'MultivariateOption', input: async () => ({ id: fixture.optionB, defaultWeight: 20 }),
      check: (entry) => {
        expect(entry.before).toMatchObject({ key: 'b', defaultWeight: 30 });
        expect(entry.after).toMatchObject({ key: 'b', defaultWeight: 20 });
      } },
    deleteMultivariateOption: { caller: 'admin', targetType: 'MultivariateOption',
      input: async () => ({ id: (await succeed('createMultivariateOption', { featureId: fixture.featureId, key: unique('gone'), value: 0 })).id }),
      check: (entry) => {
        expect(entry.before).toMatchObject({ key: expect.stringMatching(/^gone_/) });
        expect(entry.after).toBeNull();
      } },
    updateFeatureState: { caller: 'admin', targetType: 'FeatureState',
      input: async () => ({ environmentId: fixture.production.id, featureId: fixture.featureId, allocations: [{ optionId: fixture.optionA, weight: 50 }] }),
      check: (entry) => {
        expect(entry.before).toMatchObject({ allocations: [] });
        expect(entry.after).toMatchObject({ allocations: [{ key: 'a', weight: 50 }] });
      } },
    createSegment: { caller: 'admin', targetType: 'Segment', input: async () => ({ projectId: fixture.projectId, name: unique('segment'), rules: [] }) },
    updateSegment: { caller: 'admin', targetType: 'Segment', input: async () => ({ id: fixture.segmentId, description: 'testers' }),
      check: (entry) => expect([entry.before, entry.after]).toMatchObject([{ description: null }, { description: 'testers' }]) },
    deleteSegment: { caller: 'admin', targetType: 'Segment',
      input: async () => ({ id: (await succeed('createSegment', { projectId: fixture.projectId, name: unique('old'), rules: [] })).id }),
      check: (entry) => expect(entry.after).toBeNull() },
    setSegmentOverride: { caller: 'admin', targetType: 'SegmentOverride',
      input: async () => ({ environmentId: fixture.production.id, featureId: fixture.featureId, segmentId: fixture.segmentId, enabled: true,
        allocations: [{ optionId: fixture.optionA, weight: 100 }] }),
      check: (entry) => {
        expect(entry.before).toBeNull();
        expect(entry.after).toMatchObject({ enabled: true, allocations: [{ key: 'a', weight: 100 }] });
      } },
    removeSegmentOverride: { caller: 'admin', targetType: 'SegmentOverride',
      input: async () => {
        const segmentId = (await succeed('createSegment', { projectId: fixture.projectId, name: unique('brief'), rules: [] })).id;
        const set = await succeed('setSegmentOverride', { environmentId: fixture.development.id, featureId: fixture.featureId, segmentId, enabled: true });
        return { id: set.id };
      },
      check: (entry) => expect([entry.before, entry.after]).toMatchObject([{ enabled: true }, null]) },
    setIdentityOverride: { caller: 'admin', targetType: 'IdentityOverride',
      input: async () => ({ environmentId: fixture.production.id, identifier: 'user-1', feature: 'banner', enabled: true, value: 'just for you' }),
      check: (entry) => expect([entry.before, entry.after]).toMatchObject([null, { enabled: true, value: 'just for you' }]) },
    removeIdentityOverride: { caller: 'admin', targetType: 'IdentityOverride',
      input: async () => ({ id: (await succeed('setIdentityOverride', { environmentId: fixture.development.id, identifier: unique('user'), feature: 'banner' })).id }),
      check: (entry) => expect(entry.after).toBeNull() },
    createExperiment: { caller: 'admin', targetType: 'Experiment',
      input: async () => ({ environmentId: fixture.production.id, feature: 'banner', name: unique('banner test') }),
      check: (entry) => expect(entry.after).toMatchObject({ status: 'DRAFT' }) },
    startExperiment: { caller: 'admin', targetType: 'Experiment',
      input: async () => {
        const featureId = await newFeature();
        const name = await featureName(featureId);
        return { id: (await succeed('createExperiment', { environmentId: fixture.development.id, feature: name, name: unique('start') })).id };
      },
      check: (entry) => expect([entry.before, entry.after]).toMatchObject([{ status: 'DRAFT' }, { status: 'RUNNING' }]) },
    stopExperiment: { caller: 'admin', targetType: 'Experiment',
      input: async () => ({ id: (await runningExperiment()).experimentId, winnerKey: 'y', ship: true }),
      check: (entry) => {
        // Shipping changed the feature state: the entry shows the winner's value and the weights dropping to 0.
        expect(entry.before).toMatchObject({ status: 'RUNNING', featureState: { value: null, allocations: [] } });
        expect(entry.after).toMatchObject({
          status: 'STOPPED',
          winnerKey: 'y',
          featureState: { value: 'Y', allocations: [{ key: 'x', weight: 0 }, { key: 'y', weight: 0 }] },
        });
      } },
    // Client mutations: exposures are not audited.
    recordExposure: { caller: 'client', input: async () => ({ feature: 'banner', identifier: 'user-2', variantKey: 'a' }) },
    recordExposures: { caller: 'client', input: async () => ({ exposures: [{ feature: 'banner', identifier: 'user-3', variantKey: 'b' }] }) },
  };

  async function featureName(id: string): Promise<string> {
    const feature = (await server.data(FeatureName, { id })).node;
    return feature?.__typename === 'Feature' ? feature.name : '';
  }

  it('has a case for every mutation of the schema, and no case for a mutation it lacks', () => {
    expect(mutations.size).toBeGreaterThan(20);
    expect([...mutations.keys()].filter((name) => !(name in cases)), 'mutations without a case').toEqual([]);
    expect(Object.keys(cases).filter((name) => !mutations.has(name)), 'cases without a mutation').toEqual([]);
  });

  it('writes exactly one entry for each admin mutation, naming it, its target and its caller; none for client mutations', async () => {
    for (const name of mutations.keys()) {
      const testCase = cases[name];
      if (!testCase) continue; // reported by the test above
      const input = await testCase.input();
      if (testCase.caller === 'client') {
        // A client mutation indeed: an admin token may not call it.
        const asAdmin = await server.post({ query: mutations.get(name)!.document, variables: { input } }, headersOf({ token: tester.secret }));
        expect(((await asAdmin.json()) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code, name).toBe('FORBIDDEN');
        const [called, written] = await entriesWrittenBy(() => call(name, input, { environmentKey: fixture.production.key }));
        expect(called.typename, name).toMatch(/Payload$/);
        expect(written, name).toEqual([]);
        continue;
      }
      const [called, written] = await entriesWrittenBy(() => call(name, input));
      expect(called.typename, `${name}: ${called.code}`).toMatch(/Payload$/);
      expect(written.length, `${name} writes one entry`).toBe(1);
      const [entry] = written;
      expect(entry, name).toMatchObject({ action: name, targetType: testCase.targetType, targetId: called.id, actor: { tokenId: tester.id, name: tester.name } });
      expect(Date.parse(entry.at), name).not.toBeNaN();
      testCase.check?.(entry);
    }
  });

  it('writes nothing for a refused call, nor for a change rolled back after its entry was written', async () => {
    const refusals: [string, Input, string][] = [
      ['createProject', { name: 'AuditShop' }, 'DUPLICATE_NAME'],
      ['createFeature', { projectId: fixture.projectId, name: 'two words' }, 'INVALID_FEATURE_NAME'],
      ['updateMultivariateOption', { id: fixture.optionA, key: 'control' }, 'RESERVED_VARIANT_KEY'],
      ['revokeApiToken', { id: 'QXBpVG9rZW46OTk5OTk=' }, 'NOT_FOUND'],
      ['setSegmentOverride', { environmentId: fixture.development.id, featureId: fixture.featureId, segmentId: fixture.segmentId, allocations: [{ optionId: fixture.optionA, weight: 101 }] }, 'INVALID_WEIGHT'],
    ];
    for (const [name, input, code] of refusals) {
      const [called, written] = await entriesWrittenBy(() => call(name, input));
      expect(called, name).toMatchObject({ code });
      expect(written, name).toEqual([]);
    }

    // updateFeatureState writes the weights and its entry, then finds the sum over 100: both roll back.
    const stateOf = async () => (await server.data(StateWeights, { environmentId: fixture.development.id, featureId: fixture.featureId })).feature;
    const before = await stateOf();
    const [called, written] = await entriesWrittenBy(() =>
      call('updateFeatureState', {
        environmentId: fixture.development.id,
        featureId: fixture.featureId,
        allocations: [{ optionId: fixture.optionA, weight: 90 }, { optionId: fixture.optionB, weight: 90 }],
      }),
    );
    expect(called).toMatchObject({ typename: 'WeightsError', code: 'WEIGHTS_EXCEED_100' });
    expect(written).toEqual([]);
    expect(await stateOf()).toEqual(before);
  });

  it("lists one row's entries newest first, page by page, and finds them by node(id)", async () => {
    const featureId = await newFeature();
    for (const description of ['one', 'two', 'three']) await succeed('updateFeature', { id: featureId, description });
    const all = (await server.data(AuditLog, { targetId: featureId, first: 10 })).auditLog;
    expect(all.edges.map((edge) => [edge.node.action, (edge.node.after as { description: string | null }).description])).toEqual([
      ['updateFeature', 'three'],
      ['updateFeature', 'two'],
      ['updateFeature', 'one'],
      ['createFeature', null],
    ]);
    const first = (await server.data(AuditLog, { targetId: featureId, first: 3 })).auditLog;
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = (await server.data(AuditLog, { targetId: featureId, first: 3, after: first.pageInfo.endCursor })).auditLog;
    expect([...first.edges, ...rest.edges].map((edge) => edge.node.id)).toEqual(all.edges.map((edge) => edge.node.id));
    expect(rest.pageInfo.hasNextPage).toBe(false);

    const entry = all.edges[0].node;
    expect((await server.data(AuditNode, { id: entry.id })).node).toEqual({ __typename: 'AuditEntry', action: 'updateFeature', targetId: featureId });
    // Analytics tokens read neither the log nor its entries.
    expect((await server.data(AuditNode, { id: entry.id }, { token: server.analyticsToken })).node).toBeNull();

    // A deleted row keeps its history; an id that names nothing is NOT_FOUND; pages are bounded.
    const optionId = (await succeed('createMultivariateOption', { featureId, key: 'z', value: 'Z' })).id!;
    await succeed('deleteMultivariateOption', { id: optionId });
    expect((await server.data(AuditLog, { targetId: optionId })).auditLog.edges.map((edge) => edge.node.action)).toEqual([
      'deleteMultivariateOption',
      'createMultivariateOption',
    ]);
    const malformed = await server.request(AuditLog, { targetId: 'not an id' });
    expect(malformed.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // Pages are bounded: a page larger than 500 is cut to 500.
    const huge = await server.request(AuditLog, { first: 100_000 });
    expect(huge.errors).toBeUndefined();
    expect(huge.data?.auditLog.edges.length).toBeLessThanOrEqual(500);
  });

  it('names the right caller when mutations of several tokens run at once', async () => {
    const other = (await server.data(AuditCreateToken, { name: 'second admin' })).createApiToken;
    if (other.__typename !== 'CreateApiTokenPayload') throw new Error('no second token');
    const callers = [
      { secret: tester.secret, id: tester.id, name: tester.name },
      { secret: other.secret, id: other.token.id, name: 'second admin' },
    ];
    const calls = Array.from({ length: 12 }, (_, index) => ({ caller: callers[index % 2], name: `concurrent_${index}` }));
    const made = await Promise.all(
      calls.map(async ({ caller, name }) => {
        const called = await call('createSegment', { projectId: fixture.projectId, name, rules: [] }, { token: caller.secret });
        return { caller, id: called.id! };
      }),
    );
    for (const { caller, id } of made) {
      const entries = (await server.data(AuditLog, { targetId: id })).auditLog.edges.map((edge) => edge.node);
      expect(entries).toMatchObject([{ action: 'createSegment', actor: { tokenId: caller.id, name: caller.name } }]);
    }
  });

  it('refuses auditLog to client keys, analytics tokens and anonymous callers', async () => {
    const asClient = await server.request(AuditLog, {}, { environmentKey: fixture.production.key });
    expect(asClient.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(asClient.data ?? null).toBeNull();
    const asAnalytics = await server.request(AuditLog, {}, { token: server.analyticsToken });
    expect(asAnalytics.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await server.request(AuditLog, {}, {});
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

const FeatureName = graphql(`
  query AuditFeatureName($id: ID!) { node(id: $id) { __typename ... on Feature { name } } }
`);

const StateWeights = graphql(`
  query AuditStateWeights($environmentId: ID!, $featureId: ID!) {
    feature: node(id: $featureId) { ... on Feature { state(environmentId: $environmentId) { value weights { key weight overridden } } } }
  }
`);
