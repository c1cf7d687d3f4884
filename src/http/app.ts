// The HTTP application on node:http: the route table (/health, /ready, GraphiQL's assets, the
// plain routes, /graphql) and what every request gets (request id, CORS, target checks, drain).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { exposureExportRoute } from './exposure-export.js';
import { authFailure, authScopes } from '../auth/scopes.js';
import type { Services } from '../composition.js';
import { BodyTooLargeError } from './body.js';
import { headerReader, sendError, sendInvalidInput, sendJson } from './bridge.js';
import { trackConnections } from './drain.js';
import { answerExperimentPage } from './experiment-page/page.js';
import { GRAPHIQL_ASSET_PREFIX, graphiqlAssets } from './graphiql/assets.js';
import { answerCors, setPageSecurityHeaders } from './headers.js';
import { health, ready } from './health.js';
import { requestTargetProblem } from './input-integrity.js';
import { ofrepRoutes } from '../openfeature/routes.js';
import type { HttpRoute, RouteContext } from './route.js';
import { createGraphQLYoga, type GraphQLYoga, handleGraphQL } from './yoga.js';

/** The plain routes beside /graphql. */
const routes: HttpRoute[] = [exposureExportRoute, ...ofrepRoutes];

export interface App {
  server: Server;
  yoga: GraphQLYoga;
  /** Stops accepting connections, lets in-flight requests finish, then resolves. */
  drain(timeoutMs: number): Promise<void>;
}

export function createApp(services: Services): App {
  const yoga = createGraphQLYoga(services);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const header = req.headers['x-request-id'];
    const requestId = typeof header === 'string' && /^[\w.-]{1,100}$/.test(header) ? header : randomUUID();
    const logger = services.logger.child({ reqId: requestId });
    res.setHeader('x-request-id', requestId);
    res.setHeader('x-content-type-options', 'nosniff');
    const url = new URL(req.url ?? '/', 'http://localhost');
    connections.track(req, res);
    // Only when it is written: a listener per request is not free at tens of thousands of requests a second.
    if (logger.isLevelEnabled('debug')) {
      res.on('close', () => {
        logger.debug(
          { method: req.method, path: url.pathname, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 },
          'request',
        );
      });
    }
    try {
      if (answerCors(req, res, services.config.corsOrigins)) return;
      // Parsers downstream (URLSearchParams, Yoga) would turn bad bytes into U+FFFD silently.
      const targetProblem = requestTargetProblem(req.url ?? '/');
      if (targetProblem) return sendInvalidInput(res, targetProblem);
      if (url.pathname === '/health') return health(res);
      if (url.pathname === '/ready') return await ready(services, res);
      if (url.pathname.startsWith(GRAPHIQL_ASSET_PREFIX) && (req.method === 'GET' || req.method === 'HEAD')) return await graphiqlAsset(req, res, url);
      if ((req.method === 'GET' || req.method === 'HEAD') && (await answerExperimentPage(req, res, url))) return;
      const route = routes.find((r) => (r.prefix ? url.pathname.startsWith(r.path) : r.path === url.pathname) && r.method === req.method);
      if (route) return await plainRoute(route, req, res, { requestId, logger, url });
      if (url.pathname !== '/graphql') return sendJson(res, 404, { error: 'not found' });
      await handleGraphQL(yoga, services.config, req, res, url, { requestId, logger });
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        return sendError(res, 413, 'PAYLOAD_TOO_LARGE', 'Request body too large.');
      }
      logger.error({ err: error }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  }

  /** Resolves the caller and checks the route's scopes with the GraphQL scope table. */
  async function plainRoute(route: HttpRoute, req: IncomingMessage, res: ServerResponse, request: Omit<RouteContext, 'services' | 'caller' | 'credentials'>) {
    const headers = headerReader(req);
    const credentials = route.credentials ? route.credentials(headers, request.url) : headers;
    const caller = await services.resolveCaller(credentials);
    const granted = authScopes(caller);
    if (!route.scopes.some((scope) => granted[scope])) {
      const failure = authFailure(caller);
      return sendError(res, failure.status, failure.code, failure.message);
    }
    await route.handle(req, res, { ...request, services, caller, credentials });
  }

  async function graphiqlAsset(req: IncomingMessage, res: ServerResponse, url: URL) {
    const asset = (await graphiqlAssets()).get(url.pathname.slice(GRAPHIQL_ASSET_PREFIX.length));
    if (!asset) return sendJson(res, 404, { error: 'not found' });
    setPageSecurityHeaders(res);
    res.setHeader('etag', asset.etag);
    res.setHeader('cache-control', 'public, max-age=86400');
    if (req.headers['if-none-match'] === asset.etag) {
      res.statusCode = 304;
      return void res.end();
    }
    res.setHeader('content-type', asset.type);
    res.end(asset.body);
  }

  const server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 65_000;
  const connections = trackConnections(server);

  return {
    server,
    yoga,
    drain: (timeoutMs) => {
      // Event streams never finish on their own: ended first, so the drain does not wait on them.
      services.openfeature.closeStreams();
      services.liveFlags.closeAll();
      return connections.drain(timeoutMs);
    },
  };
}
