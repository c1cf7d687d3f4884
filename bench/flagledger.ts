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
  projectId: string;
  environmentId: string;
  /** Feature ids in creation order (feature_000 first). */
  featureIds: string[];
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
    createProject: { __typename: string; project?: { id: string; environments: { id: string; key: string }[] }; message?: string };
  }>(
    url,
    `mutation ($input: CreateProjectInput!) {
      createProject(input: $input) {
        __typename
        ... on CreateProjectPayload { project { id environments { id key } } }
        ... on Error { message }
      }
    }`,
    { input: { name: 'Bench', environments: ['production'] } },
  );
  if (!createProject.project) throw new Error(`createProject: ${createProject.message}`);
  const projectId = createProject.project.id;
  const featureIds: string[] = [];

  for (let i = 0; i < features; i++) {
    const options =
      i < multivariate
        ? [
            { key: 'variant_a', value: `A${i}`, defaultWeight: 34 },
            { key: 'variant_b', value: `B${i}`, defaultWeight: 33 },
            { key: 'variant_c', value: `C${i}`, defaultWeight: 33 },
          ]
        : [];
    const { createFeature } = await adminGraphQL<{ createFeature: { __typename: string; message?: string; feature?: { id: string } } }>(
      url,
      `mutation ($input: CreateFeatureInput!) {
        createFeature(input: $input) { __typename ... on CreateFeaturePayload { feature { id } } ... on Error { message } }
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
    if (createFeature.__typename !== 'CreateFeaturePayload' || !createFeature.feature) throw new Error(`createFeature: ${createFeature.message}`);
    featureIds.push(createFeature.feature.id);
  }

  const { projects } = await adminGraphQL<{ projects: { edges: { node: { name: string; environments: { name: string; key: string }[] } }[] } }>(
    url,
    '{ projects(first: 10) { edges { node { name environments { name key } } } } }',
  );
  const demo = projects.edges.find((edge) => edge.node.name === 'Demo')?.node;
  const demoEnvironmentKey = demo?.environments.find((environment) => environment.name === 'development')?.key;
  if (!demoEnvironmentKey) throw new Error('no demo project');
  const environment = createProject.project.environments[0];
  return { projectId, environmentId: environment.id, featureIds, environmentKey: environment.key, demoEnvironmentKey, features, multivariate };
}

/** The conditions segments are built from; identities' 5 traits match some of them. */
const CONDITION_POOL = [
  { property: 'plan', operator: 'EQUAL', value: 'pro' },
  { property: 'country', operator: 'IN', value: 'CA,US,GB' },
  { property: 'age', operator: 'GREATER_THAN_INCLUSIVE', value: '30' },
  { property: 'app_version', operator: 'GREATER_THAN', value: '1.2.0:semver' },
  { property: 'beta', operator: 'EQUAL', value: 'true' },
  { property: 'email', operator: 'REGEX', value: '.*@example\\.com$' },
  { property: 'age', operator: 'LESS_THAN', value: '60' },
  { property: 'plan', operator: 'NOT_EQUAL', value: 'free' },
];

/** Five traits per identity, varied by its number. */
export function benchTraits(n: number): Record<string, unknown> {
  return {
    plan: n % 3 === 0 ? 'pro' : 'free',
    country: ['CA', 'US', 'FR', 'DE'][n % 4],
    age: 18 + (n % 50),
    app_version: `1.${n % 5}.0`,
    beta: n % 2 === 0,
  };
}

/**
 * `segments` segments of 3-5 conditions each (ALL rules), and `overrides` segment overrides,
 * each on a different feature (every other one with its own weights when multivariate).
 */
export async function seedBenchTargeting(url: string, project: BenchProject, segments: number, overrides: number): Promise<void> {
  const segmentIds: string[] = [];
  for (let i = 0; i < segments; i++) {
    const count = 3 + (i % 3);
    const conditions = Array.from({ length: count }, (_, j) => CONDITION_POOL[(i + j) % CONDITION_POOL.length]);
    const { createSegment } = await adminGraphQL<{ createSegment: { __typename: string; message?: string; segment?: { id: string } } }>(
      url,
      `mutation ($input: CreateSegmentInput!) {
        createSegment(input: $input) { __typename ... on CreateSegmentPayload { segment { id } } ... on Error { message } }
      }`,
      { input: { projectId: project.projectId, name: `segment_${i}`, rules: [{ type: 'ALL', conditions }] } },
    );
    if (!createSegment.segment) throw new Error(`createSegment: ${createSegment.message}`);
    segmentIds.push(createSegment.segment.id);
  }
  for (let i = 0; i < overrides; i++) {
    // Features 0, 10, 20, ...: the first two are multivariate.
    const featureIndex = (i * 10) % project.features;
    const { setSegmentOverride } = await adminGraphQL<{ setSegmentOverride: { __typename: string; message?: string } }>(
      url,
      `mutation ($input: SetSegmentOverrideInput!) {
        setSegmentOverride(input: $input) { __typename ... on Error { message } }
      }`,
      {
        input: {
          environmentId: project.environmentId,
          featureId: project.featureIds[featureIndex],
          segmentId: segmentIds[i % segmentIds.length],
          enabled: true,
          value: `segment_value_${i}`,
        },
      },
    );
    if (setSegmentOverride.__typename !== 'SetSegmentOverridePayload') throw new Error(`setSegmentOverride: ${setSegmentOverride.message}`);
  }
}

export const FLAGS_QUERY = 'query Flags($identifier: String) { flags(identifier: $identifier) { name enabled value variant reason } }';
export const TARGETED_FLAGS_QUERY =
  'query Flags($identifier: String, $traits: JSON) { flags(identifier: $identifier, traits: $traits) { name enabled value variant reason segment } }';

export function flagsBody(identifier: string): string {
  return JSON.stringify({ query: FLAGS_QUERY, variables: { identifier } });
}

export function targetedFlagsBody(identifier: string, traits: Record<string, unknown>): string {
  return JSON.stringify({ query: TARGETED_FLAGS_QUERY, variables: { identifier, traits } });
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
