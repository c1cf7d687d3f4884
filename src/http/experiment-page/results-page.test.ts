// The experiment results page in headless Chromium against a real server holding the demo
// experiment (as the first `npm start` seeds it): the token asked once per tab, one chart per
// iteration with one series per variant, numbers equal to Experiment.results, every request to
// the server's own origin, no CSP violation. Screenshots go to test-artifacts/ (not committed).
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../../test/generated/index.js';
import { databaseKinds } from '../../../test/helpers/databases.js';
import { RecordExposures } from '../../../test/helpers/documents.js';
import { startTestServer, type TestServer } from '../../../test/helpers/server.js';
import { seedDemoExperiment } from '../../seed/demo-experiment.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`Experiment results page tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium).`);

const ARTIFACTS = new URL('../../../test-artifacts/', import.meta.url).pathname;

const Results = graphql(`
  query ResultsPageTestResults($id: ID!, $iteration: Int) {
    node(id: $id) {
      ... on Experiment {
        iterations { number }
        results(iteration: $iteration) {
          iteration exposures identities conflictedIdentities
          variants { key exposures identities conflictedIdentities observedShare expectedShare }
          srm { pValue status }
        }
      }
    }
  }
`);
const Stop = graphql(`
  mutation ResultsPageTestStop($input: StopExperimentInput!) { stopExperiment(input: $input) { __typename ... on Error { code message } } }
`);
const Start = graphql(`
  mutation ResultsPageTestStart($input: StartExperimentInput!) { startExperiment(input: $input) { __typename ... on Error { code message } } }
`);

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;

/** What one iteration's section shows, read from the page. */
async function shown(page: Page, iteration: number) {
  const section = page.locator(`section.iteration[data-iteration="${iteration}"]`);
  await section.locator('.chart canvas').first().waitFor();
  return section.evaluate((node) => {
    const text = (selector: string) => node.querySelector(selector)?.textContent?.trim() ?? null;
    const rows = [...node.querySelectorAll('table.variants tbody tr')].map((row) => {
      const cell = (field: string) => row.querySelector(`[data-field="${field}"]`)?.textContent?.trim();
      return {
        key: row.getAttribute('data-key'),
        expectedShare: cell('expectedShare'),
        observedShare: cell('observedShare'),
        identities: cell('identities'),
        exposures: cell('exposures'),
        conflictedIdentities: cell('conflictedIdentities'),
      };
    });
    // uPlot's legend: the x series first, then one row per drawn series.
    const legend = [...node.querySelectorAll('.u-legend .u-series .u-label')].map((label) => label.textContent?.trim());
    const swatches = [...node.querySelectorAll('.u-legend .u-series .u-marker')].map((marker) => getComputedStyle(marker).borderColor);
    const canvas = node.querySelector('.chart canvas') as HTMLCanvasElement;
    const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    /** Pixels of the canvas within a small distance of each legend colour: each series drew its line. */
    const colours = swatches.slice(1).map((css) => {
      const [r, g, b] = (css.match(/\d+/g) ?? []).map(Number);
      let count = 0;
      for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i + 3] > 200 && Math.abs(pixels[i] - r) < 24 && Math.abs(pixels[i + 1] - g) < 24 && Math.abs(pixels[i + 2] - b) < 24) count++;
      }
      return count;
    });
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
    return {
      srm: node.querySelector('[data-srm]')?.getAttribute('data-srm'),
      totals: { identities: text('[data-total="identities"]'), exposures: text('[data-total="exposures"]'), conflictedIdentities: text('[data-total="conflictedIdentities"]') },
      rows,
      series: legend.slice(1),
      colours,
      painted,
      canvases: node.querySelectorAll('.chart canvas').length,
    };
  });
}

describe('experiment results page over HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('pglite');
  });
  afterAll(() => server?.close());

  it('serves the page and its assets itself, without credentials, under a strict CSP, naming no other host', async () => {
    for (const path of ['/experiments', '/experiments/', '/experiments/RXhwZXJpbWVudDox', '/experiments/anything']) {
      const page = await fetch(`${server.url}${path}`);
      expect({ path, status: page.status }).toEqual({ path, status: 200 });
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'.*script-src 'self'.*style-src 'self'.*connect-src 'self'/);
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      const html = await page.text();
      expect(html).not.toMatch(/<script>|<style|\sstyle=|\son\w+=/);
      expect(html).not.toMatch(/https?:/);
      const references = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
      for (const reference of references) expect(reference).toMatch(/^(\/|data:,$)/);
      for (const asset of references.filter((r) => r.startsWith('/experiment-page/'))) {
        const response = await fetch(`${server.url}${asset}`);
        expect({ asset, status: response.status }).toEqual({ asset, status: 200 });
        const body = await response.text();
        expect(body.length).toBeGreaterThan(500);
        expect((await fetch(`${server.url}${asset}`, { headers: { 'if-none-match': response.headers.get('etag')! } })).status).toBe(304);
      }
      expect(references.filter((r) => r.startsWith('/experiment-page/')).length).toBe(4);
    }
    expect((await fetch(`${server.url}/experiment-page/nothing.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/experiments/a/b`)).status).toBe(404);
    expect((await fetch(`${server.url}/experiments`, { method: 'POST' })).status).toBe(404);
    const head = await fetch(`${server.url}/experiments`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });
});

describe.skipIf(!hasChromium).each(databaseKinds)('experiment results page on %s', (kind) => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let experimentId: string;
  let origin: string;
  const requested: string[] = [];
  const problems: string[] = [];

  async function results(iteration: number) {
    const { node } = await server.data(Results, { id: experimentId, iteration });
    if (!node || !('results' in node) || !node.results) throw new Error('no results');
    return node.results;
  }

  async function expectPageEqualsResults(iteration: number) {
    const [onPage, expected] = await Promise.all([shown(page, iteration), results(iteration)]);
    expect(onPage.srm).toBe(expected.srm.status);
    expect(onPage.totals).toEqual({
      identities: String(expected.identities),
      exposures: String(expected.exposures),
      conflictedIdentities: String(expected.conflictedIdentities),
    });
    expect(onPage.rows).toEqual(
      expected.variants.map((v) => ({
        key: v.key,
        expectedShare: percent(v.expectedShare),
        observedShare: percent(v.observedShare),
        identities: String(v.identities),
        exposures: String(v.exposures),
        conflictedIdentities: String(v.conflictedIdentities),
      })),
    );
    // One chart, one series per variant, each of them drawn.
    expect(onPage.canvases).toBe(1);
    expect(onPage.series).toEqual(expected.variants.map((v) => v.key));
    expect(onPage.painted).toBeGreaterThan(1000);
    for (const count of onPage.colours) expect(count).toBeGreaterThan(10);
    return { onPage, expected };
  }

  beforeAll(async () => {
    server = await startTestServer(kind);
    experimentId = (await seedDemoExperiment(server.services)).id;
    origin = new URL(server.url).origin;
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    context = await browser.newContext({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
    context.on('request', (request) => void requested.push(request.url()));
    context.on('console', (message) => {
      if (message.type() === 'error' || /Content Security Policy/i.test(message.text())) problems.push(message.text());
    });
    context.on('weberror', (error) => void problems.push(String(error.error())));
    page = await context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('asks for a token, then draws the running demo experiment with the numbers of Experiment.results', async () => {
    await page.goto(`${server.url}/experiments/${experimentId}`);
    await page.locator('#token-form').waitFor({ state: 'visible' });
    await page.fill('#token', server.analyticsToken);
    await page.click('#token-form button');
    const { expected } = await expectPageEqualsResults(1);
    expect(expected.identities).toBeGreaterThanOrEqual(200);
    expect(await page.locator('#token-form').isHidden()).toBe(true);
    expect(await page.locator('#title').textContent()).toBe('checkout button copy');
    await page.screenshot({ path: `${ARTIFACTS}results-page-${kind}.png`, fullPage: true });
    // Switching the chart to exposures redraws it with the same series.
    await page.locator('section.iteration[data-iteration="1"] input[value="exposures"]').check();
    await expectPageEqualsResults(1);
  });

  it('keeps the token for the tab only', async () => {
    await page.reload();
    await expectPageEqualsResults(1);
    expect(await page.locator('#token-form').isHidden()).toBe(true);

    const other = await context.newPage();
    try {
      await other.goto(`${server.url}/experiments/${experimentId}`);
      await other.locator('#token-form').waitFor({ state: 'visible' });
      // A client key is no reading token: asked again, with the reason.
      await other.fill('#token', server.demo.environments[0].key);
      await other.click('#token-form button');
      await other.locator('#token-error').getByText(/ADMIN or ANALYTICS|not valid/).waitFor();
      expect(await other.locator('#token-form').isVisible()).toBe(true);
      await other.fill('#token', server.adminToken);
      await other.click('#token-form button');
      await other.locator('section.iteration[data-iteration="1"] .chart canvas').waitFor();
    } finally {
      await other.close();
    }
  });

  it('draws one chart per iteration, each with its own numbers', async () => {
    await server.data(Stop, { input: { id: experimentId, winnerKey: 'variant_a' } });
    await server.data(Start, { input: { id: experimentId } });
    const development = server.demo.environments.find((environment) => environment.name === 'development')!;
    // 1, 2 and 3 identities: three lines from the same origin, none hiding another.
    const keys = ['control', 'variant_a', 'variant_a', 'variant_b', 'variant_b', 'variant_b'];
    const exposures = keys.map((variantKey, n) => ({ feature: 'checkout_button', identifier: `second-${n}`, variantKey }));
    const { recordExposures } = await server.data(RecordExposures, { input: { exposures } }, { environmentKey: development.key });
    expect(recordExposures).toMatchObject({ accepted: keys.length });
    await page.reload();
    await expectPageEqualsResults(2);
    await expectPageEqualsResults(1);
    expect(await page.locator('section.iteration').count()).toBe(2);
    await page.screenshot({ path: `${ARTIFACTS}results-page-two-iterations-${kind}.png`, fullPage: true });
  });

  it('lists the experiments, and GraphiQL links to them', async () => {
    await page.goto(`${server.url}/experiments`);
    await page.locator(`a[href="/experiments/${experimentId}"]`).waitFor();
    await page.goto(`${server.url}/graphql`);
    await page.locator('a[href="/experiments"][title="Experiment results"]').waitFor({ timeout: 60_000 });
  });

  it('sent every request to the server itself, with no CSP violation or script error', () => {
    expect(requested.length).toBeGreaterThan(5);
    expect(requested.filter((url) => !url.startsWith('data:') && new URL(url).origin !== origin)).toEqual([]);
    expect(problems).toEqual([]);
  });
});
