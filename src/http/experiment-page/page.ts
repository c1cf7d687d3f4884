// The experiment results pages (SPEC.md section 11): GET /experiments lists the experiments a
// token may read, GET /experiments/<id> shows one. Static HTML, CSS and script from this package
// (uPlot from node_modules), no inline script, served without credentials: the page asks for a
// token once per tab and reads only the GraphQL API with it.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { setResultsPageSecurityHeaders } from '../headers.js';

export const EXPERIMENT_PAGE_ASSET_PREFIX = '/experiment-page/';
const PAGE_PATH = /^\/experiments(?:\/[^/]+)?\/?$/;

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const JS = 'application/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

let assets: Promise<Map<string, Asset>> | undefined;

function asset(body: Buffer, type: string): Asset {
  return { body, type, etag: `"${createHash('sha1').update(body).digest('hex')}"` };
}

function pageAssets(): Promise<Map<string, Asset>> {
  assets ??= (async () => {
    const require = createRequire(import.meta.url);
    const files: [string, string, string][] = [
      ['uPlot.iife.min.js', require.resolve('uplot/dist/uPlot.iife.min.js'), JS],
      ['uPlot.min.css', require.resolve('uplot/dist/uPlot.min.css'), CSS],
      ['results.js', new URL('./results.js', import.meta.url).pathname, JS],
      ['results.css', new URL('./results.css', import.meta.url).pathname, CSS],
    ];
    const map = new Map<string, Asset>();
    for (const [name, path, type] of files) map.set(name, asset(await readFile(path), type));
    return map;
  })();
  return assets;
}

const P = EXPERIMENT_PAGE_ASSET_PREFIX;
const PAGE = Buffer.from(`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Experiment results · flagledger</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${P}uPlot.min.css" />
    <link rel="stylesheet" href="${P}results.css" />
  </head>
  <body>
    <header>
      <nav><a href="/experiments">Experiments</a> · <a href="/graphql">GraphiQL</a></nav>
      <h1 id="title">Experiment results</h1>
      <p id="subtitle"></p>
    </header>
    <noscript>This page needs JavaScript.</noscript>
    <form id="token-form" hidden>
      <label for="token">API token (ADMIN or ANALYTICS)</label>
      <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" placeholder="flt_…" required />
      <button type="submit">Show results</button>
      <p id="token-error" role="alert"></p>
      <p class="hint">Kept in this tab only (sessionStorage), sent only to this server's GraphQL API.</p>
    </form>
    <main id="main" aria-live="polite"></main>
    <script src="${P}uPlot.iife.min.js"></script>
    <script src="${P}results.js"></script>
  </body>
</html>
`);
const PAGE_ETAG = `"${createHash('sha1').update(PAGE).digest('hex')}"`;

function send(req: IncomingMessage, res: ServerResponse, body: Buffer, type: string, etag: string, cacheControl: string): void {
  setResultsPageSecurityHeaders(res);
  res.setHeader('etag', etag);
  res.setHeader('cache-control', cacheControl);
  if (req.headers['if-none-match'] === etag) {
    res.statusCode = 304;
    return void res.end();
  }
  res.setHeader('content-type', type);
  res.setHeader('content-length', body.length);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Answers the results pages and their assets (GET/HEAD); false when the request is not one of them. */
export async function answerExperimentPage(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (PAGE_PATH.test(path)) {
    // One page for every id: the script reads the id from the address, the API decides.
    send(req, res, PAGE, 'text/html; charset=utf-8', PAGE_ETAG, 'no-cache');
    return true;
  }
  if (!path.startsWith(P)) return false;
  const found = (await pageAssets()).get(path.slice(P.length));
  if (!found) return false;
  send(req, res, found.body, found.type, found.etag, 'no-cache');
  return true;
}
