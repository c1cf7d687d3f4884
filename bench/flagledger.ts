// flagledger for the benchmarks: a server process on a scratch PostgreSQL database (reached
// through the statement-counting proxy) and the benchmark project, made with the admin API.
import { type Child, startChild } from './processes.js';

export const BENCH_ADMIN_TOKEN = 'flt_benchmarkAdminToken000000000000000000';

export interface FlagledgerServer {
  url: string;
  child: Child;
}

export async function startFlagledger(
  name: string,
  databaseUrl: string,
  port: number,
  extraEnv: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<FlagledgerServer> {
  const url = `http://127.0.0.1:${port}`;
  const child = await startChild(
    name,
    process.execPath,
    [...nodeArgs, '--import', 'tsx', 'src/server.ts'],
    {
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      ...extraEnv,
    },
    `${url}/ready`,
  );
  return { url, child };
}

export async function adminGraphQL<T>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (!response.ok || body.errors?.length || !body.data) throw new Error(`admin request failed: ${JSON.stringify(body)}`);
  return body.data;
}

export interface BenchProject {
  environmentKey: string;
  /** The demo project's development key (one feature): for the SQL probe. */
  demoEnvironmentKey: string;
  features: number;
  multivariate: number;
}

/**
 * Project "Bench" with one environment and `features` features, enabled; the first
 * `multivariate` of them have 3 keyed variants (34/33/33).
 */
export async function seedBenchProject(url: string, features: number, multivariate: number): Promise<BenchProject> {
  const { createProject } = await adminGraphQL<{
    createProject: { __typename: string; project?: { id: string; environments: { key: string }[] }; message?: string };
  }>(
    url,
    `mutation ($input: CreateProjectInput!) {
      createProject(input: $input) {
        __typename
        ... on CreateProjectPayload { project { id environments { key } } }
        ... on Error { message }
      }
    }`,
    { input: { name: 'Bench', environments: ['production'] } },
  );
  if (!createProject.project) throw new Error(`createProject: ${createProject.message}`);
  const projectId = createProject.project.id;

  for (let i = 0; i < features; i++) {
    const options =
      i < multivariate
        ? [
            { key: 'variant_a', value: `A${i}`, defaultWeight: 34 },
            { key: 'variant_b', value: `B${i}`, defaultWeight: 33 },
            { key: 'variant_c', value: `C${i}`, defaultWeight: 33 },
          ]
        : [];
    const { createFeature } = await adminGraphQL<{ createFeature: { __typename: string; message?: string } }>(
      url,
      `mutation ($input: CreateFeatureInput!) {
        createFeature(input: $input) { __typename ... on Error { message } }
      }`,
      {
        input: {
          projectId,
          name: `feature_${String(i).padStart(3, '0')}`,
          initialValue: `value_${i}`,
          defaultEnabled: true,
          options,
        },
      },
    );
    if (createFeature.__typename !== 'CreateFeaturePayload') throw new Error(`createFeature: ${createFeature.message}`);
  }

  const { projects } = await adminGraphQL<{ projects: { edges: { node: { name: string; environments: { name: string; key: string }[] } }[] } }>(
    url,
    '{ projects(first: 10) { edges { node { name environments { name key } } } } }',
  );
  const demo = projects.edges.find((edge) => edge.node.name === 'Demo')?.node;
  const demoEnvironmentKey = demo?.environments.find((environment) => environment.name === 'development')?.key;
  if (!demoEnvironmentKey) throw new Error('no demo project');
  return { environmentKey: createProject.project.environments[0].key, demoEnvironmentKey, features, multivariate };
}

export const FLAGS_QUERY = 'query Flags($identifier: String) { flags(identifier: $identifier) { name enabled value variant reason } }';

export function flagsBody(identifier: string): string {
  return JSON.stringify({ query: FLAGS_QUERY, variables: { identifier } });
}

/** POSTs one flags request; returns the parsed flags (fails on errors). */
export async function flagsOnce(url: string, environmentKey: string, identifier: string): Promise<{ name: string; variant: string | null }[]> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-environment-key': environmentKey },
    body: flagsBody(identifier),
  });
  const body = (await response.json()) as { data?: { flags: { name: string; variant: string | null }[] }; errors?: unknown };
  if (!body.data) throw new Error(`flags failed: ${JSON.stringify(body)}`);
  return body.data.flags;
}
