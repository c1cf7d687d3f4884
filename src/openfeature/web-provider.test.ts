// The stock OpenFeature web SDK and OFREP web provider, unchanged, in headless Chromium against
// a real server: initial load, a context change, a config change over SSE, a 304 revalidation.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../../test/helpers/databases.js';
import { CreateFeature, CreateProject, UpdateFeatureState } from '../../test/helpers/documents.js';
import { eventually } from '../../test/helpers/eventually.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`OFREP web provider tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium).`);

/** The page's script: the SDK and the provider from npm, bundled as they would be in an app. */
async function bundle(): Promise<string> {
  const result = await build({
    stdin: {
      contents: `
        import { OpenFeature } from '@openfeature/web-sdk';
        import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';
        window.of = { OpenFeature, OFREPWebProvider };`,
      resolveDir: process.cwd(),
      loader: 'js',
    },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    write: false,
  });
  return result.outputFiles[0].text;
}

declare global {
  interface Window {
    // The page's globals, as the bundle above sets them.
    of: { OpenFeature: typeof import('@openfeature/web-sdk').OpenFeature; OFREPWebProvider: typeof import('@openfeature/ofrep-web-provider').OFREPWebProvider };
    client: ReturnType<typeof import('@openfeature/web-sdk').OpenFeature.getClient>;
  }
}

describe.skipIf(!hasChromium).each(databaseKinds)('OFREP web provider in Chromium on %s', (kind) => {
  let server: TestServer;
  let pageServer: Server;
  let pageUrl: string;
  let browser: Browser;
  let page: Page;
  let key: string;
  let textState: string;
  /** Status of every bulk evaluation the page made, in order. */
  const bulkStatuses: number[] = [];

  beforeAll(async () => {
    server = await startTestServer(kind);
    const { createProject } = await server.data(CreateProject, { input: { name: 'Web', environments: ['live'] } });
    if (createProject.__typename !== 'CreateProjectPayload') throw new Error(JSON.stringify(createProject));
    key = createProject.project.environments[0].key;
    const projectId = createProject.project.id;
    const { createFeature } = await server.data(CreateFeature, { input: { projectId, name: 'headline', initialValue: 'Hello', defaultEnabled: true } });
    if (createFeature.__typename !== 'CreateFeaturePayload') throw new Error(JSON.stringify(createFeature));
    textState = createFeature.feature.states[0].id;
    await server.data(CreateFeature, {
      input: {
        projectId,
        name: 'button',
        initialValue: 'grey',
        defaultEnabled: true,
        options: [
          { key: 'red', value: 'red', defaultWeight: 50, priority: 0 },
          { key: 'blue', value: 'blue', defaultWeight: 50, priority: 1 },
        ],
      },
    });

    const script = await bundle();
    // The app is on another origin than the flag server, as usual (CORS).
    pageServer = createServer((req, res) => {
      if (req.url === '/app.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title><script src="/app.js"></script>');
    });
    await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
    pageUrl = `http://localhost:${(pageServer.address() as AddressInfo).port}/`;

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage();
    page.on('response', (response) => {
      if (response.url().endsWith('/ofrep/v1/evaluate/flags') && response.request().method() === 'POST') bulkStatuses.push(response.status());
    });
    await page.goto(pageUrl);
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => pageServer?.close(resolve));
    await server?.close();
  });

  /** What the server's single evaluation serves this context (the reference). */
  async function served(flag: string, context: Record<string, unknown>) {
    const response = await fetch(`${server.url}/ofrep/v1/evaluate/flags/${flag}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ context }),
    });
    return (await response.json()) as { value: unknown; variant?: string };
  }

  it('loads the flags on start', async () => {
    await page.evaluate(
      async ({ baseUrl, key }) => {
        const { OpenFeature, OFREPWebProvider } = window.of;
        await OpenFeature.setContext({ targetingKey: 'web-user-1', plan: 'free' });
        await OpenFeature.setProviderAndWait(new OFREPWebProvider({ baseUrl, headers: [['X-API-Key', key]], cacheMode: 'disabled' }));
        window.client = OpenFeature.getClient();
      },
      { baseUrl: server.url, key },
    );
    expect(await page.evaluate(() => window.client.getStringValue('headline', 'default'))).toBe('Hello');
    const button = await page.evaluate(() => window.client.getStringDetails('button', 'default'));
    const expected = await served('button', { targetingKey: 'web-user-1', plan: 'free' });
    expect(button).toMatchObject({ value: expected.value, variant: expected.variant, reason: 'SPLIT' });
  });

  it('re-evaluates on a context change', async () => {
    const before = bulkStatuses.length;
    await page.evaluate(() => window.of.OpenFeature.setContext({ targetingKey: 'web-user-2', plan: 'pro' }));
    expect(bulkStatuses.length).toBeGreaterThan(before);
    const expected = await served('button', { targetingKey: 'web-user-2', plan: 'pro' });
    expect(await page.evaluate(() => window.client.getStringDetails('button', 'default'))).toMatchObject({ value: expected.value, variant: expected.variant });
  });

  it('reflects a config change arriving over SSE without a reload', async () => {
    await server.data(UpdateFeatureState, { input: { id: textState, value: 'Bonjour' } });
    await eventually(async () => expect(await page.evaluate(() => window.client.getStringValue('headline', 'default'))).toBe('Bonjour'), {
      timeoutMs: 20_000,
      what: 'the new headline in the page',
    });
  });

  it('revalidates an unchanged evaluation with a 304', async () => {
    const before = bulkStatuses.length;
    // The provider refetches when the page becomes visible again.
    await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    await eventually(() => bulkStatuses.length > before, { timeoutMs: 20_000, what: 'a refetch' });
    expect(bulkStatuses.slice(before)).toContain(304);
    expect(await page.evaluate(() => window.client.getStringValue('headline', 'default'))).toBe('Bonjour');
  });
});
