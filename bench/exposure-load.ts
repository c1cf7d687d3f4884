// The exposure benchmarks' project and requests, shared by bench/exposures.ts and
// bench/profile.ts: a project with FEATURES multivariate features (variant_a/b/c beside
// control) and reports of random exposures with unique eventIds.
import { randomBytes } from 'node:crypto';
import { adminGraphQL } from './flagledger.js';

/** Identities reporting exposures (all seen during the warm-up). */
export const IDENTITIES = 20_000;
/** Multivariate features of the bench project, each with variant_a/b/c. */
export const FEATURES = 5;
export const KEYS = ['variant_a', 'variant_b', 'variant_c', 'control'];

const RUN = randomBytes(4).toString('hex');

/** One exposure as a client reports it: random feature, identity and key; a unique eventId. */
export interface Item {
  feature: string;
  identifier: string;
  variantKey: string;
  exposedAt: string;
  eventId: string;
}

let sequence = 0;
export function item(prefix: string): Item {
  return {
    feature: `exp_${Math.floor(Math.random() * FEATURES)}`,
    identifier: `user-${Math.floor(Math.random() * IDENTITIES)}`,
    variantKey: KEYS[Math.floor(Math.random() * KEYS.length)],
    exposedAt: new Date(Date.now() - Math.floor(Math.random() * 60_000)).toISOString(),
    eventId: `${prefix}-${RUN}-${sequence++}`,
  };
}

export const BATCH_QUERY =
  'mutation Batch($input: RecordExposuresInput!) { recordExposures(input: $input) { __typename ' +
  '... on RecordExposuresPayload { accepted duplicates rejected results { index status exposure { id } error { code message } } } ' +
  '... on Error { code message } } }';
export const SINGLE_QUERY =
  'mutation One($input: RecordExposureInput!) { recordExposure(input: $input) { __typename ' +
  '... on RecordExposurePayload { duplicate exposure { id matchesAssignment } } ... on Error { code message } } }';

export function batchBody(prefix: string, size: number): string {
  return JSON.stringify({ query: BATCH_QUERY, variables: { input: { exposures: Array.from({ length: size }, () => item(prefix)) } } });
}

export function singleBody(prefix: string): string {
  return JSON.stringify({ query: SINGLE_QUERY, variables: { input: item(prefix) } });
}

export const singleOk = (body: string) => body.includes('"duplicate":false');

/** Creates the project "Exposure bench" and its features; returns its environment key. */
export async function seedExposureProject(url: string): Promise<string> {
  const { createProject } = await adminGraphQL<{ createProject: { project?: { id: string; environments: { key: string }[] } } }>(
    url,
    `mutation ($input: CreateProjectInput!) {
      createProject(input: $input) { ... on CreateProjectPayload { project { id environments { key } } } }
    }`,
    { input: { name: 'Exposure bench', environments: ['production'] } },
  );
  if (!createProject.project) throw new Error('createProject failed');
  for (let i = 0; i < FEATURES; i++) {
    const { createFeature } = await adminGraphQL<{ createFeature: { __typename: string; message?: string } }>(
      url,
      `mutation ($input: CreateFeatureInput!) { createFeature(input: $input) { __typename ... on Error { message } } }`,
      {
        input: {
          projectId: createProject.project.id,
          name: `exp_${i}`,
          initialValue: 'off',
          defaultEnabled: true,
          options: [
            { key: 'variant_a', value: 'a', defaultWeight: 30 },
            { key: 'variant_b', value: 'b', defaultWeight: 30 },
            { key: 'variant_c', value: 'c', defaultWeight: 30 },
          ],
        },
      },
    );
    if (createFeature.__typename !== 'CreateFeaturePayload') throw new Error(`createFeature: ${createFeature.message}`);
  }
  return createProject.project.environments[0].key;
}
