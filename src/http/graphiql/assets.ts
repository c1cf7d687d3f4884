// GraphiQL served entirely from this server: the page is small and the bundle from
// @graphql-yoga/render-graphiql is served as separate, cacheable assets, so it works with
// no internet and loads once per browser.
import { createHash } from 'node:crypto';
import type { GraphiQLOptions } from 'graphql-yoga';

export const GRAPHIQL_ASSET_PREFIX = '/graphiql/';

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

// The page's own scripts are assets too, so its Content-Security-Policy needs no inline script.
const MONACO_ENVIRONMENT = `self.MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl: function (moduleId, label) {
    var path = label === 'json' ? '${GRAPHIQL_ASSET_PREFIX}json.worker.js' : label === 'graphql' ? '${GRAPHIQL_ASSET_PREFIX}graphql.worker.js' : '${GRAPHIQL_ASSET_PREFIX}editor.worker.js';
    return new URL(path, location.href).href;
  },
};
`;

const RENDER = `YogaGraphiQL.renderYogaGraphiQL(
  document.querySelector('#root'),
  JSON.parse(document.getElementById('graphiql-options').textContent),
);
`;

let assets: Promise<Map<string, Asset>> | undefined;

function asset(body: string, type: string): Asset {
  const buffer = Buffer.from(body, 'utf8');
  return { body: buffer, type, etag: `"${createHash('sha1').update(buffer).digest('hex')}"` };
}

export function graphiqlAssets(): Promise<Map<string, Asset>> {
  assets ??= import('@graphql-yoga/render-graphiql/graphiql').then((bundle) => {
    const map = new Map<string, Asset>();
    map.set('yoga-graphiql.js', asset(bundle.js, 'application/javascript; charset=utf-8'));
    map.set('yoga-graphiql.css', asset(bundle.css, 'text/css; charset=utf-8'));
    map.set('editor.worker.js', asset(bundle.editorWorkerService, 'application/javascript; charset=utf-8'));
    map.set('json.worker.js', asset(bundle.jsonWorker, 'application/javascript; charset=utf-8'));
    map.set('graphql.worker.js', asset(bundle.graphqlWorker, 'application/javascript; charset=utf-8'));
    map.set('monaco-environment.js', asset(MONACO_ENVIRONMENT, 'application/javascript; charset=utf-8'));
    map.set('render.js', asset(RENDER, 'application/javascript; charset=utf-8'));
    return map;
  });
  return assets;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON for a <script> element: `</script>` inside a string must not end the element. */
const scriptJson = (value: unknown) => JSON.stringify(value ?? {}).replace(/</g, '\\u003c');

/**
 * GraphiQL's header logo (HTML, top right) is a link to the experiment results pages: a chart
 * icon, drawn in SVG so it needs no asset.
 */
export const EXPERIMENTS_LOGO_LINK =
  '<a href="/experiments" title="Experiment results" aria-label="Experiment results">' +
  '<svg width="28" height="28" viewBox="0 0 28 28" aria-hidden="true"><rect x="3" y="15" width="5" height="10" rx="1" fill="#64748b"/>' +
  '<rect x="11.5" y="8" width="5" height="17" rx="1" fill="#2563eb"/><rect x="20" y="3" width="5" height="22" rx="1" fill="#16a34a"/></svg></a>';

export function renderGraphiQLPage(givenOptions?: GraphiQLOptions): string {
  const options: GraphiQLOptions = { logo: EXPERIMENTS_LOGO_LINK, ...givenOptions };
  const p = GRAPHIQL_ASSET_PREFIX;
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(options?.title ?? 'flagledger GraphiQL')}</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${p}yoga-graphiql.css" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root"></div>
    <script type="application/json" id="graphiql-options">${scriptJson(options)}</script>
    <script src="${p}monaco-environment.js"></script>
    <script src="${p}yoga-graphiql.js"></script>
    <script src="${p}render.js"></script>
  </body>
</html>`;
}
