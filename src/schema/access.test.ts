// Who may read what through `node`/`nodes`, list-argument limits, and the one rule for ids that
// name nothing (missing, malformed, out of range, another type, another spelling): NOT_FOUND,
// null or 404, never an internal error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { CreateFeature as SetupFeature, CreateProject as Setup, RecordExposure as SetupExposure } from '../../test/helpers/documents.js';
import { databaseId, globalId } from '../../test/helpers/ids.js';
import { type Credentials, startTestServer, type TestServer } from '../../test/helpers/server.js';

const SetupToken = graphql(`
  mutation AccessSetupToken($input: CreateApiTokenInput!) {
    createApiToken(input: $input) { ... on CreateApiTokenPayload { token { id } } }
  }
`);

const NodeOf = graphql(`
  query AccessNode($id: ID!) { node(id: $id) { __typename id } }
`);

const NodesOf = graphql(`
  query AccessNodes($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }
`);

const EnvironmentKey = graphql(`
  query AccessEnvironmentKey($id: ID!) { node(id: $id) { ... on Environment { name key } } }
`);

const ExposureDetails = graphql(`
  query AccessExposureDetails($ids: [ID!]!) { nodes(ids: $ids) { ... on Exposure { identifier variantKey feature } } }
`);

const ProjectLookup = graphql(`
  query AccessProject($id: ID!) { project(id: $id) { id } }
`);

const FeatureState = graphql(`
  query AccessFeatureState($id: ID!, $environmentId: ID!) {
    node(id: $id) { ... on Feature { state(environmentId: $environmentId) { id } } }
  }
`);

const Summary = graphql(`
  query AccessSummary($environmentId: ID!) { experimentSummary(environmentId: $environmentId, feature: "checkout") { totalExposures } }
`);

const Exposures = graphql(`
  query AccessExposures($environmentId: ID!) { exposures(environmentId: $environmentId) { edges { node { id } } } }
`);

const CreateEnvironment = graphql(`
  mutation AccessCreateEnvironment($input: CreateEnvironmentInput!) {
    createEnvironment(input: $input) { __typename ... on Error { code } ... on NotFoundError { path } }
  }
`);

const UpdateState = graphql(`
  mutation AccessUpdateState($input: UpdateFeatureStateInput!) {
    updateFeatureState(input: $input) { __typename ... on Error { code } ... on NotFoundError { path } ... on ValidationError { path } }
  }
`);

const RevokeToken = graphql(`
  mutation AccessRevokeToken($input: RevokeApiTokenInput!) {
    revokeApiToken(input: $input) { __typename ... on Error { code } }
  }
`);

const CreateToken = graphql(`
  mutation AccessCreateToken($input: CreateApiTokenInput!) {
    createApiToken(input: $input) { __typename ... on Error { code } ... on ValidationError { path } }
  }
`);

const CreateProject = graphql(`
  mutation AccessCreateProject($input: CreateProjectInput!) {
    createProject(input: $input) { __typename ... on Error { code } ... on ValidationError { path } }
  }
`);

type NodeType = 'Project' | 'Environment' | 'Feature' | 'MultivariateOption' | 'FeatureState' | 'Exposure' | 'ApiToken';

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}

describe.each(databaseKinds)('node access and global ids on %s', (kind) => {
  let server: TestServer;
  const ids = {} as Record<NodeType, string>;
  let envB: string;
  let keyA: string;
  let keyB: string;
  let exposureB: string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    const { createProject } = await server.data(Setup, { input: { name: 'Access', environments: ['a', 'b'] } });
    if (!createProject || !('project' in createProject)) throw new Error('project not created');
    const [a, b] = createProject.project.environments;
    ids.Project = createProject.project.id;
    ids.Environment = a.id;
    envB = b.id;
    keyA = a.key;
    keyB = b.key;
    const { createFeature } = await server.data(SetupFeature, {
      input: {
        projectId: ids.Project,
        name: 'checkout',
        defaultEnabled: true,
        options: [{ key: 'blue', value: 'blue', defaultWeight: 50 }],
      },
    });
    if (!createFeature || !('feature' in createFeature)) throw new Error('feature not created');
    ids.Feature = createFeature.feature.id;
    ids.MultivariateOption = createFeature.feature.options[0].id;
    ids.FeatureState = createFeature.feature.states.find((s) => s.environment.name === 'a')!.id;
    const { createApiToken } = await server.data(SetupToken, { input: { name: 'extra', scopes: ['ANALYTICS'] } });
    if (!createApiToken || !('token' in createApiToken)) throw new Error('token not created');
    ids.ApiToken = createApiToken.token.id;
    const record = async (key: string, identifier: string) => {
      const { recordExposure } = await server.data(
        SetupExposure,
        { input: { feature: 'checkout', identifier, variantKey: 'blue' } },
        { environmentKey: key },
      );
      if (!recordExposure || !('exposure' in recordExposure)) throw new Error('exposure not recorded');
      return recordExposure.exposure;
    };
    const own = await record(keyA, 'user-a@example.com');
    // A client sees what its own write returns.
    expect(own.identifier).toBe('user-a@example.com');
    ids.Exposure = own.id;
    exposureB = (await record(keyB, 'user-b@example.com')).id;
  });
  afterAll(() => server?.close());

  const types: NodeType[] = ['Project', 'Environment', 'Feature', 'MultivariateOption', 'FeatureState', 'Exposure', 'ApiToken'];

  type Caller = 'anonymous' | 'wrong key' | 'wrong token' | 'client A' | 'client B' | 'analytics' | 'admin';
  const credentials = (caller: Caller): Credentials => {
    switch (caller) {
      case 'anonymous':
        return { headers: {} };
      case 'wrong key':
        return { environmentKey: 'env_0000000000000000000000' };
      case 'wrong token':
        return { token: 'flt_not_a_token' };
      case 'client A':
        return { environmentKey: keyA };
      case 'client B':
        return { environmentKey: keyB };
      case 'analytics':
        return { token: server.analyticsToken };
      case 'admin':
        return { token: server.adminToken };
    }
  };
  // What each caller may see through node/nodes: an error code for the whole field, or the
  // set of types it reads (others answer null, exactly as a row that does not exist).
  const expected: Record<Caller, { code: string } | { sees: NodeType[] }> = {
    anonymous: { code: 'UNAUTHENTICATED' },
    'wrong key': { code: 'UNAUTHENTICATED' },
    'wrong token': { code: 'UNAUTHENTICATED' },
    'client A': { code: 'FORBIDDEN' },
    'client B': { code: 'FORBIDDEN' },
    analytics: { sees: ['Project', 'Environment', 'Feature', 'MultivariateOption', 'FeatureState', 'Exposure'] },
    admin: { sees: types },
  };

  it.each(Object.keys(expected) as Caller[])('node and nodes of every type as %s', async (caller) => {
    const as = credentials(caller);
    const rule = expected[caller];
    for (const type of types) {
      const one = await server.request(NodeOf, { id: ids[type] }, as);
      if ('code' in rule) {
        expect(one.data?.node ?? null, `${caller} ${type}`).toBeNull();
        expect(one.errors?.map((e) => e.extensions?.code), `${caller} ${type}`).toEqual([rule.code]);
      } else {
        expect(one.errors, `${caller} ${type}`).toBeUndefined();
        expect(one.data?.node, `${caller} ${type}`).toEqual(rule.sees.includes(type) ? { __typename: type, id: ids[type] } : null);
      }
    }
    const many = await server.request(NodesOf, { ids: types.map((type) => ids[type]) }, as);
    if ('code' in rule) {
      expect(many.data?.nodes ?? null).toBeNull();
      expect(many.errors?.map((e) => e.extensions?.code)).toEqual([rule.code]);
    } else {
      expect(many.errors).toBeUndefined();
      expect(many.data?.nodes).toEqual(types.map((type) => (rule.sees.includes(type) ? { __typename: type, id: ids[type] } : null)));
    }
  });

  it('keeps client keys away from exposures, even their own environment, and Environment.key from analytics', async () => {
    for (const [key, id] of [
      [keyA, ids.Exposure],
      [keyB, exposureB],
    ]) {
      const read = await server.request(ExposureDetails, { ids: [id] }, { environmentKey: key });
      expect(read.data?.nodes ?? null).toBeNull();
      expect(JSON.stringify(read)).not.toContain('@example.com');
    }
    const analytics = await server.request(EnvironmentKey, { id: ids.Environment }, { token: server.analyticsToken });
    expect(analytics.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(JSON.stringify(analytics)).not.toContain(keyA);
    const admin = await server.data(EnvironmentKey, { id: ids.Environment });
    expect(admin.node).toEqual({ name: 'a', key: keyA });
    const exposures = await server.data(ExposureDetails, { ids: [ids.Exposure, exposureB] }, { token: server.analyticsToken });
    expect(exposures.nodes.map((n) => n && 'identifier' in n && n.identifier)).toEqual(['user-a@example.com', 'user-b@example.com']);
  });

  it('caps nodes at 100 ids, checks credentials before anything, and answers repeats and missing rows', async () => {
    const many = Array.from({ length: 40_000 }, (_, i) => globalId('Project', i + 1));
    const anonymous = await server.request(NodesOf, { ids: many }, { headers: {} });
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    const tooMany = await server.request(NodesOf, { ids: many.slice(0, 101) });
    expect(tooMany.errors?.map((e) => e.extensions?.code)).toEqual(['INVALID_INPUT']);
    expect(tooMany.data?.nodes ?? null).toBeNull();

    const hundred = [...types.map((type) => ids[type]), ...many.slice(0, 100 - types.length - 2)];
    hundred.push(ids.Project, globalId('Exposure', 987_654_321));
    const answer = await server.data(NodesOf, { ids: hundred });
    expect(answer.nodes).toHaveLength(100);
    expect(answer.nodes.slice(0, types.length).map((n) => n?.__typename)).toEqual(types);
    expect(answer.nodes[98]).toEqual({ __typename: 'Project', id: ids.Project });
    expect(answer.nodes[99]).toBeNull();
  });

  it('answers a missing Exposure with null and no error', async () => {
    const missing = globalId('Exposure', 987_654_321);
    expect(await server.request(NodeOf, { id: missing })).toEqual({ status: 200, data: { node: null } });
    expect(await server.request(NodesOf, { ids: [missing, ids.Exposure] })).toEqual({
      status: 200,
      data: { nodes: [null, { __typename: 'Exposure', id: ids.Exposure }] },
    });
  });

  it('caps every list input', async () => {
    const environments = Array.from({ length: 101 }, (_, i) => `env${i}`);
    expect((await server.data(CreateProject, { input: { name: 'Wide', environments } })).createProject).toEqual({
      __typename: 'ValidationError',
      code: 'INVALID_INPUT',
      path: ['environments'],
    });
    const scopes = Array.from({ length: 11 }, () => 'ANALYTICS' as const);
    expect((await server.data(CreateToken, { input: { name: 'many', scopes } })).createApiToken).toEqual({
      __typename: 'ValidationError',
      code: 'INVALID_INPUT',
      path: ['scopes'],
    });
    const allocations = Array.from({ length: 101 }, () => ({ optionId: ids.MultivariateOption, weight: 0 }));
    expect((await server.data(UpdateState, { input: { id: ids.FeatureState, allocations } })).updateFeatureState).toEqual({
      __typename: 'ValidationError',
      code: 'INVALID_INPUT',
      path: ['allocations'],
    });
    expect(await server.services.prisma.project.count({ where: { name: 'Wide' } })).toBe(0);
  });

  // Ids that name nothing: out of range, not a number, not canonical, another type, another
  // spelling of a real id (padding, whitespace, URL-safe alphabet), or not base64 at all.
  const badIds = (real: string, type: string, realId: number) => [
    b64(`${type}:9999999999`),
    b64(`${type}:99999999999999999999999`),
    b64(`${type}:abc`),
    b64(`${type}:1.5`),
    b64(`${type}:0${realId}`),
    b64(`${type}: ${realId}`),
    b64(`${type}:${realId} `),
    b64(`${type}:-${realId}`),
    b64(`${type}:0`),
    b64(`${type}:`),
    b64(`${type}`),
    b64(`Nothing:${realId}`),
    real.replace(/=+$/, ''),
    ` ${real}`,
    `${real}\n`,
    `${real}==`,
    '',
    'not-an-id',
    '%%%',
  ].filter((id) => id !== real);

  it('treats malformed, out-of-range and respelled ids as missing in every operation', async () => {
    const projectDbId = databaseId(ids.Project);
    const environmentDbId = databaseId(ids.Environment);
    for (const id of [...badIds(ids.Project, 'Project', projectDbId), ids.Feature]) {
      const label = JSON.stringify(id);
      if (id !== ids.Feature) {
        // node takes an id of any type; the others take a Project's only.
        expect(await server.request(NodeOf, { id }), label).toEqual({ status: 200, data: { node: null } });
        expect(await server.request(NodesOf, { ids: [id, ids.Project] }), label).toEqual({
          status: 200,
          data: { nodes: [null, { __typename: 'Project', id: ids.Project }] },
        });
      }
      expect(await server.request(ProjectLookup, { id }), label).toEqual({ status: 200, data: { project: null } });
      expect((await server.data(CreateEnvironment, { input: { projectId: id, name: 'x' } })).createEnvironment, label).toEqual({
        __typename: 'NotFoundError',
        code: 'NOT_FOUND',
        path: ['projectId'],
      });
      expect((await server.data(RevokeToken, { input: { id } })).revokeApiToken, label).toMatchObject({ code: 'NOT_FOUND' });
    }
    for (const id of [...badIds(ids.Environment, 'Environment', environmentDbId), ids.Project]) {
      const label = JSON.stringify(id);
      expect(await server.request(FeatureState, { id: ids.Feature, environmentId: id }), label).toEqual({
        status: 200,
        data: { node: { state: null } },
      });
      const allocations = [{ optionId: ids.MultivariateOption, weight: 10 }, { optionId: id, weight: 10 }];
      expect((await server.data(UpdateState, { input: { id: ids.FeatureState, allocations } })).updateFeatureState, label).toEqual({
        __typename: 'NotFoundError',
        code: 'NOT_FOUND',
        path: ['allocations', '1', 'optionId'],
      });
      const summary = await server.request(Summary, { environmentId: id }, { token: server.analyticsToken });
      expect(summary.errors?.map((e) => [e.extensions?.code, e.path]), label).toEqual([['NOT_FOUND', ['experimentSummary']]]);
      const exposures = await server.request(Exposures, { environmentId: id }, { token: server.analyticsToken });
      expect(exposures.errors?.map((e) => [e.extensions?.code, e.path]), label).toEqual([['NOT_FOUND', ['exposures']]]);
      const exported = await fetch(`${server.url}/exports/exposures?environment=${encodeURIComponent(id)}`, {
        headers: { authorization: `Bearer ${server.analyticsToken}` },
      });
      expect([exported.status, ((await exported.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code], label).toEqual([
        404,
        'NOT_FOUND',
      ]);
    }
    // Nothing was written by any of them.
    expect(await server.services.prisma.environment.count({ where: { name: 'x' } })).toBe(0);
    expect(await server.services.prisma.variantAllocation.count()).toBe(0);
  });

  it('checks credentials before it looks at ids', async () => {
    const answer = await server.request(CreateEnvironment, { input: { projectId: 'not-an-id', name: 'x' } }, { headers: {} });
    expect(answer.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    const client = await server.request(Summary, { environmentId: '' }, { environmentKey: keyA });
    expect(client.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });

  it('a real id still works, under its one spelling', async () => {
    expect((await server.data(ProjectLookup, { id: ids.Project })).project).toEqual({ id: ids.Project });
    expect((await server.data(FeatureState, { id: ids.Feature, environmentId: envB })).node).toMatchObject({ state: { id: expect.any(String) } });
  });
});
