// The web example (examples/web) as a user runs it: built from its sources (codegen, esbuild),
// served from another origin, driven in headless Chromium against a server that runs only its
// trusted documents. First render, one exposure however often the page renders (and reloads),
// and an admin weight change re-rendering the page live, without a reload.
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebExample, PERSISTED_DOCUMENTS, type WebExample } from '../examples/web/build.js';
import { readPersistedOperations } from '../src/config.js';
import { databaseKinds } from './helpers/databases.js';
import { eventually } from './helpers/eventually.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`Web example tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium).`);

const USER = 'web-user-1';

describe.skipIf(!hasChromium).each(databaseKinds)('the web example in Chromium on %s', (kind) => {
  let example: WebExample;
  let server: TestServer;
  let pageServer: Server;
  let context: BrowserContext;
  let page: Page;
  let pageUrl: string;
  let production: { id: string; key: string };
  let feature: { id: string; options: { id: string; key: string }[] };

  /** Arbitrary documents with the admin token (tokens are not held to the trusted documents). */
  async function admin<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const response = await server.post({ query, variables }, { authorization: `Bearer ${server.adminToken}` });
    const body = (await response.json()) as { data: T; errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data;
  }

  async function exposures() {
    const { exposures } = await admin<{ exposures: { edges: { node: { variantKey: string; eventId: string; source: string } }[] } }>(
      'query($env: ID!, $who: String) { exposures(environmentId: $env, feature: "checkout_button", identifier: $who) { edges { node { variantKey eventId source } } } }',
      { env: production.id, who: USER },
    );
    return exposures.edges.map((e) => e.node);
  }

  const shown = () => page.locator('#checkout').getAttribute('data-variant');
  const renders = async () => Number(await page.locator('#app').getAttribute('data-renders'));

  beforeAll(async () => {
    example = await buildWebExample();
    server = await startTestServer(kind, { config: { persistedOperations: readPersistedOperations(PERSISTED_DOCUMENTS) } });
    const { projects } = await admin(
      '{ projects(first: 1) { edges { node { environments { id name key } features(first: 1, name: "checkout_button") { edges { node { id options { id key } } } } } } } }',
    );
    const project = projects.edges[0].node;
    production = project.environments.find((e: { name: string }) => e.name === 'production');
    feature = project.features.edges[0].node;

    // The page is on another origin than the flag server, as usual (CORS).
    pageServer = createServer((req, res) => {
      if (req.url === '/app.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(example.script);
      res.writeHead(200, { 'content-type': 'text/html' }).end(example.html);
    });
    await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
    const query = new URLSearchParams({ server: server.url, key: production.key, user: USER });
    pageUrl = `http://localhost:${(pageServer.address() as AddressInfo).port}/?${query}`;

    context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'flagledger-chromium-')), {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? (await context.newPage());
  });
  afterAll(async () => {
    await context?.close();
    if (pageServer) await new Promise((resolve) => pageServer.close(resolve));
    await server?.close();
  });

  it('renders the variant the server assigns the user, through trusted documents only', async () => {
    await page.goto(pageUrl);
    const variant = await eventually(async () => (await shown()) || false, { timeoutMs: 30_000, what: 'the first render' });
    // What `flags` answers for this user, asked with the page's own trusted document.
    const { PageFlagsDocument } = await import('../examples/web/src/gql/graphql.js');
    const hash = (PageFlagsDocument as unknown as { __meta__: { hash: string } }).__meta__.hash;
    const response = await server.post({ documentId: hash, variables: { identifier: USER } }, { 'x-environment-key': production.key });
    const { data } = (await response.json()) as { data: { flags: { name: string; variant: string; value: unknown }[] } };
    const expected = data.flags.find((f) => f.name === 'checkout_button')!;
    expect(variant).toBe(expected.variant);
    expect(await page.locator('#checkout').textContent()).toBe(expected.value);
    await eventually(async () => expect(await page.locator('#status').textContent()).toBe('live'), { timeoutMs: 30_000, what: 'the live subscription' });
  });

  it('records one exposure however often the page renders, and after a reload', async () => {
    await eventually(async () => expect(await page.locator('#app').getAttribute('data-exposures')).toBe('1'), { timeoutMs: 30_000, what: 'the exposure' });
    const before = await renders();
    for (let i = 0; i < 3; i++) await page.locator('#refresh').click();
    await eventually(async () => expect(await renders()).toBeGreaterThanOrEqual(before + 3), { timeoutMs: 30_000, what: 'three more renders' });
    // A reload forgets what the page sent; the same eventId makes the server count it once.
    await page.reload();
    await eventually(async () => expect(await page.locator('#app').getAttribute('data-exposures')).toBe('1'), { timeoutMs: 30_000, what: 'the exposure after the reload' });
    const recorded = await exposures();
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ variantKey: await shown(), source: 'CLIENT' });
    expect(recorded[0].eventId).toMatch(/^web-[0-9a-f]{64}$/);
  });

  it('follows an admin weight change live, without a reload', async () => {
    const current = (await shown())!;
    const target = current === 'variant_a' ? 'variant_b' : 'variant_a';
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
    const result = await admin(
      'mutation($input: UpdateFeatureStateInput!) { updateFeatureState(input: $input) { __typename ... on Error { code message } } }',
      {
        input: {
          environmentId: production.id,
          featureId: feature.id,
          allocations: feature.options.map((option) => ({ optionId: option.id, weight: option.key === target ? 100 : 0 })),
        },
      },
    );
    expect(result.updateFeatureState.__typename).toBe('UpdateFeatureStatePayload');
    await eventually(async () => expect(await shown()).toBe(target), { timeoutMs: 30_000, what: 'the new variant in the page' });
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    // The new variant is a new exposure, recorded once too.
    await eventually(async () => expect((await exposures()).map((e) => e.variantKey).sort()).toEqual([current, target].sort()), {
      timeoutMs: 30_000,
      what: 'the exposure of the new variant',
    });
  });
});
