import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { CreateProject } from '../../test/helpers/documents.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import { databaseId, globalId } from '../../test/helpers/ids.js';

const CreateEnvironment = graphql(`
  mutation CreateEnvironment($input: CreateEnvironmentInput!) {
    createEnvironment(input: $input) {
      __typename
      ... on CreateEnvironmentPayload { environment { id name key project { name } } }
      ... on Error { code message }
    }
  }
`);

const Projects = graphql(`
  query Projects($first: Int, $after: String) {
    projects(first: $first, after: $after) {
      edges { cursor node { id name environments { name } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

const ProjectById = graphql(`
  query ProjectById($id: ID!) {
    project(id: $id) { id name }
    node(id: $id) { __typename id ... on Project { name } }
  }
`);

describe.each(databaseKinds)('projects and environments on %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(() => server?.close());

  it('creates a project with the default environments and distinct client keys', async () => {
    const { createProject } = await server.data(CreateProject, { input: { name: 'Shop' } });
    if (createProject.__typename !== 'CreateProjectPayload') throw new Error(createProject.__typename);
    const envs = createProject.project.environments;
    expect(envs.map((e) => e.name)).toEqual(['development', 'production']);
    for (const env of envs) expect(env.key).toMatch(/^env_[0-9A-Za-z]{22}$/);
    expect(new Set(envs.map((e) => e.key)).size).toBe(2);

    const byId = await server.data(ProjectById, { id: createProject.project.id });
    expect(byId.project?.name).toBe('Shop');
    expect(byId.node).toMatchObject({ __typename: 'Project', id: createProject.project.id });

    const missing = await server.data(ProjectById, { id: globalId('Project', 987654) });
    expect(missing).toEqual({ project: null, node: null });
  });

  it('takes the listed environments instead, and refuses bad or duplicate names', async () => {
    const ok = await server.data(CreateProject, { input: { name: 'Custom', environments: ['staging'] } });
    expect(ok.createProject).toMatchObject({ project: { environments: [{ name: 'staging' }] } });
    const dup = await server.data(CreateProject, { input: { name: 'Custom' } });
    expect(dup.createProject).toMatchObject({ __typename: 'DuplicateNameError', code: 'DUPLICATE_NAME' });
    const blank = await server.data(CreateProject, { input: { name: '   ' } });
    expect(blank.createProject).toMatchObject({ __typename: 'ValidationError', code: 'INVALID_NAME' });
    const twice = await server.data(CreateProject, { input: { name: 'Twice', environments: ['a', 'a'] } });
    expect(twice.createProject).toMatchObject({ code: 'DUPLICATE_NAME' });
    const list = await server.data(Projects, { first: 100 });
    expect(list.projects.edges.map((e) => e.node.name)).not.toContain('Twice');
  });

  it('creates an environment with a feature state for every existing feature', async () => {
    const { projects } = await server.data(Projects, {});
    const demo = projects.edges.find((e) => e.node.name === 'Demo')!.node;
    const result = await server.data(CreateEnvironment, { input: { projectId: demo.id, name: 'staging' } });
    if (result.createEnvironment.__typename !== 'CreateEnvironmentPayload') throw new Error('expected a payload');
    const environmentId = databaseId(result.createEnvironment.environment.id);
    const states = await server.services.prisma.featureState.findMany({ where: { environmentId } });
    const features = await server.services.prisma.feature.count({ where: { project: { name: 'Demo' } } });
    expect(features).toBeGreaterThan(0);
    expect(states).toHaveLength(features);

    const again = await server.data(CreateEnvironment, { input: { projectId: demo.id, name: 'staging' } });
    expect(again.createEnvironment).toMatchObject({ code: 'DUPLICATE_NAME' });
    const missing = await server.data(CreateEnvironment, {
      input: { projectId: globalId('Project', 999999), name: 'x' },
    });
    expect(missing.createEnvironment).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('pages through projects with stable cursors', async () => {
    for (const name of ['P1', 'P2', 'P3']) await server.data(CreateProject, { input: { name } });
    const seen: string[] = [];
    let after: string | null | undefined;
    do {
      const page: Awaited<ReturnType<typeof server.data<unknown, unknown>>> & { projects: { edges: { node: { name: string } }[]; pageInfo: { hasNextPage: boolean; endCursor?: string | null } } } =
        (await server.data(Projects, { first: 2, after })) as never;
      seen.push(...page.projects.edges.map((e) => e.node.name));
      after = page.projects.pageInfo.hasNextPage ? page.projects.pageInfo.endCursor : undefined;
    } while (after);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(['Demo', 'P1', 'P2', 'P3']));
  });
});
