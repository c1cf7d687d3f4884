// The HTTP application on node:http: the route table (/health, /ready, GraphiQL's assets, the
// plain routes, /graphql) and what every request gets (request id, CORS, target checks, drain).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { exposureExportRoute } from './exposure-export.js';
import type { HeaderReader } from '../auth/caller.js';
import type { Caller } from '../auth/credentials.js';
import { type AuthScope, authFailure, grants } from '../auth/scopes.js';
import type { Services } from '../composition.js';
import { LazyRequestLogger, type RequestLogger } from '../logger.js';
import { BodyTooLargeError } from './body.js';
import { headerReader, sendError, sendInvalidInput, sendJson } from './bridge.js';
import { trackConnections } from './drain.js';
import { answerExperimentPage } from './experiment-page/page.js';
import { GRAPHIQL_ASSET_PREFIX, graphiqlAssets } from './graphiql/assets.js';
import { answerCors, setPageSecurityHeaders } from './headers.js';
import { health, ready } from './health.js';
import { requestTargetProblem } from './input-integrity.js';
import { requestIdOf } from './request-id.js';
import { plainPath } from './request-target.js';
import { ofrepRoutes } from '../openfeature/routes.js';
import type { HttpRoute, RouteContext } from './route.js';
import { createGraphQLYoga, type GraphQLYoga, handleGraphQL } from './yoga.js';

/** The plain routes beside /graphql. */
const routes: HttpRoute[] = [exposureExportRoute, ...ofrepRoutes];

function routeOf(path: string, method: string | undefined): HttpRoute | undefined {
  for (const route of routes) {
    if ((route.prefix ? path.startsWith(route.path) : route.path === path) && route.method === method) return route;
  }
  return undefined;
}

function grantsAny(caller: Caller, scopes: AuthScope[]): boolean {
  for (const scope of scopes) if (grants(caller, scope)) return true;
  return false;
}

/** A plain route's context: a class, so that the URL is parsed only when a route reads it. */
class PlainRouteContext implements RouteContext {
  caller: Caller = UNRESOLVED;
  credentials: HeaderReader = NO_HEADERS;
  constructor(
    readonly services: Services,
    readonly requestId: string,
    readonly logger: RequestLogger,
    readonly path: string,
    private readonly target: string,
    private parsed: URL | undefined,
  ) {}

  get url(): URL {
    return (this.parsed ??= new URL(this.target, 'http://localhost'));
  }
}

/** Placeholders until the caller is resolved (the route never sees them). */
const UNRESOLVED: Caller = { kind: 'anonymous', rejected: false };
const NO_HEADERS: HeaderReader = { get: () => null };

export interface App {
  server: Server;
  yoga: GraphQLYoga;
  /** Stops accepting connections, lets in-flight requests finish, then resolves. */
  drain(timeoutMs: number): Promise<void>;
}

export function createApp(services: Services): App {
  const yoga = createGraphQLYoga(services);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const debug = services.logger.isLevelEnabled('debug');
    const started = debug ? process.hrtime.bigint() : 0n;
    const requestId = requestIdOf(req.headers['x-request-id']);
    // The request's pino child is made only when it writes a line (most requests write none).
    const logger = new LazyRequestLogger(services.logger, requestId);
    res.setHeader('x-request-id', requestId);
    res.setHeader('x-content-type-options', 'nosniff');
    const target = req.url ?? '/';
    // A plain path is read as it stands; any other target is parsed here, as every target once was.
    const plain = plainPath(target);
    const url = plain === undefined ? new URL(target, 'http://localhost') : undefined;
    const path = plain ?? url!.pathname;
    connections.track(req, res);
    // Only when it is written: a listener per request is not free at tens of thousands of requests a second.
    if (debug) {
      res.on('close', () => {
        logger.debug({ method: req.method, path, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
      });
    }
    try {
      if (answerCors(req, res, services.config.corsOrigins)) return;
      // Parsers downstream (URLSearchParams, Yoga) would turn bad bytes into U+FFFD silently.
      const targetProblem = requestTargetProblem(target);
      if (targetProblem) return sendInvalidInput(res, targetProblem);
      if (path === '/health') return health(res);
      if (path === '/ready') return await ready(services, res);
      if (path.startsWith(GRAPHIQL_ASSET_PREFIX) && (req.method === 'GET' || req.method === 'HEAD')) return await graphiqlAsset(req, res, path);
      if ((req.method === 'GET' || req.method === 'HEAD') && (await answerExperimentPage(req, res, path))) return;
      const route = routeOf(path, req.method);
      if (route) return await plainRoute(route, req, res, new PlainRouteContext(services, requestId, logger, path, target, url));
      if (path !== '/graphql') return sendJson(res, 404, { error: 'not found' });
      await handleGraphQL(yoga, services.config, req, res, url ?? new URL(target, 'http://localhost'), { requestId, logger });
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
  async function plainRoute(route: HttpRoute, req: IncomingMessage, res: ServerResponse, context: PlainRouteContext) {
    const headers = headerReader(req);
    const credentials = route.credentials ? route.credentials(headers, context) : headers;
    // Usually at hand (a remembered client key). Awaited either way: by then node:http has parsed
    // a body that came in the headers' packet, and the route reads it at once (readBody).
    const caller = await services.resolveCaller(credentials);
    if (!grantsAny(caller, route.scopes)) {
      const failure = authFailure(caller);
      return sendError(res, failure.status, failure.code, failure.message);
    }
    context.caller = caller;
    context.credentials = credentials;
    await route.handle(req, res, context);
  }

  async function graphiqlAsset(req: IncomingMessage, res: ServerResponse, path: string) {
    const asset = (await graphiqlAssets()).get(path.slice(GRAPHIQL_ASSET_PREFIX.length));
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
