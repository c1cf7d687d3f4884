// An incremental analytics job: pages through the `exposures` connection of flagledger with
// the typed document below, keeps a per-variant tally, and stores the last cursor it saw (and
// the tally) in a state file after every page, so the next run, or a run after a crash,
// resumes exactly where it stopped and counts every exposure once.
//
//   FLAGLEDGER_URL=http://localhost:4000 FLAGLEDGER_TOKEN=flt_... \
//   ENVIRONMENT_ID=<Environment id> FEATURE=checkout_button \
//   npx tsx examples/analytics-job.ts [--state .analytics-job.json]
//
// (Arguments --url, --token, --environment, --feature, --state override the variables.)
// The document is typed by GraphQL Code Generator (`npm run codegen` scans examples/).
import { readFile, rename, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { print } from 'graphql';
import type { AnalyticsJobExposuresQuery, AnalyticsJobExposuresQueryVariables } from '../test/generated/graphql.js';
import { graphql } from '../test/generated/index.js';

const ExposuresPage = graphql(`
  query AnalyticsJobExposures($environmentId: ID!, $feature: String, $first: Int, $after: String) {
    exposures(environmentId: $environmentId, feature: $feature, first: $first, after: $after) {
      edges {
        node { databaseId feature variantKey identifier exposedAt }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export interface AnalyticsJobOptions {
  /** Server base URL, e.g. http://localhost:4000 */
  serverUrl: string;
  /** Secret of an ANALYTICS (or ADMIN) token. */
  token: string;
  /** The Environment's global id. */
  environmentId: string;
  /** Only this feature (by name); all features of the environment when absent. */
  feature?: string;
  /** Where the cursor and the tally are kept between runs; no file = start from scratch every time. */
  stateFile?: string;
  pageSize?: number;
  /** Called with each page's rows, e.g. to load them into a warehouse. */
  onRows?: (rows: AnalyticsJobExposuresQuery['exposures']['edges'][number]['node'][]) => void | Promise<void>;
}

export interface AnalyticsJobState {
  /** The connection cursor of the last exposure processed. */
  after: string | null;
  /** Exposures per variant key, over every run so far. */
  counts: Record<string, number>;
}

export interface AnalyticsJobResult extends AnalyticsJobState {
  /** Exposures processed by this run. */
  processed: number;
}

async function loadState(file: string | undefined): Promise<AnalyticsJobState> {
  if (!file) return { after: null, counts: {} };
  try {
    return JSON.parse(await readFile(file, 'utf8')) as AnalyticsJobState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { after: null, counts: {} };
    throw error;
  }
}

/** Write-then-rename, so a crash leaves the old state or the new one, never half a file. */
async function saveState(file: string | undefined, state: AnalyticsJobState): Promise<void> {
  if (!file) return;
  await writeFile(`${file}.tmp`, JSON.stringify(state, null, 2));
  await rename(`${file}.tmp`, file);
}

async function fetchPage(options: AnalyticsJobOptions, variables: AnalyticsJobExposuresQueryVariables): Promise<AnalyticsJobExposuresQuery> {
  const response = await fetch(new URL('/graphql', options.serverUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
    body: JSON.stringify({ query: print(ExposuresPage), variables }),
  });
  const body = (await response.json()) as { data?: AnalyticsJobExposuresQuery | null; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length || !body.data) {
    const error = body.errors?.[0];
    throw new Error(`flagledger answered ${response.status}: ${error ? `${error.extensions?.code ?? ''} ${error.message}` : 'no data'}`);
  }
  return body.data;
}

export async function runAnalyticsJob(options: AnalyticsJobOptions): Promise<AnalyticsJobResult> {
  const state = await loadState(options.stateFile);
  let processed = 0;
  for (;;) {
    const { exposures } = await fetchPage(options, {
      environmentId: options.environmentId,
      feature: options.feature,
      first: options.pageSize ?? 1000,
      after: state.after,
    });
    const rows = exposures.edges.map((edge) => edge.node);
    await options.onRows?.(rows);
    for (const row of rows) state.counts[row.variantKey] = (state.counts[row.variantKey] ?? 0) + 1;
    processed += rows.length;
    // The cursor moves only after the page is processed: a crash re-reads at most one page
    // from the last saved state, never skips one.
    if (exposures.pageInfo.endCursor) state.after = exposures.pageInfo.endCursor;
    await saveState(options.stateFile, state);
    if (!exposures.pageInfo.hasNextPage) break;
  }
  return { ...state, processed };
}

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
  const serverUrl = argument('url') ?? process.env.FLAGLEDGER_URL ?? 'http://localhost:4000';
  const token = argument('token') ?? process.env.FLAGLEDGER_TOKEN;
  const environmentId = argument('environment') ?? process.env.ENVIRONMENT_ID;
  const feature = argument('feature') ?? process.env.FEATURE;
  const stateFile = argument('state') ?? process.env.STATE_FILE ?? '.analytics-job.json';
  if (!token || !environmentId) {
    console.error('Usage: FLAGLEDGER_TOKEN=... ENVIRONMENT_ID=... [FEATURE=...] npx tsx examples/analytics-job.ts [--state file]');
    process.exit(2);
  }
  const result = await runAnalyticsJob({ serverUrl, token, environmentId, feature, stateFile });
  console.log(`Read ${result.processed} new exposures${feature ? ` of ${feature}` : ''}; state in ${stateFile}.`);
  console.log('| variant | exposures |\n|---|---:|');
  for (const [variant, count] of Object.entries(result.counts).sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`| ${variant} | ${count} |`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
