// The HTTP application: /graphql (Yoga), GraphiQL's assets, /health, /ready and the plain
// routes of src/http/routes.ts, on node:http.
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { GraphQLError } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { type Context, resolveCaller, type Services } from './context.js';
import { pendingMigrations } from './db/migrator.js';
import { GRAPHIQL_ASSET_PREFIX, graphiqlAssets, renderGraphiQLPage } from './graphiql/assets.js';
import { BodyTooLargeError, readBody } from './http/body.js';
import { percentEncodedProblem, requestTargetProblem, useInputIntegrity } from './http/input-integrity.js';
import { routes } from './http/routes.js';
import { schema } from './schema/index.js';

export interface App {
  server: Server;
  yoga: YogaServerInstance<ServerContext, Context>;
  /** Stops accepting connections, lets in-flight requests finish, then resolves. */
  drain(timeoutMs: number): Promise<void>;
}

interface ServerContext {
  requestId: string;
  logger: Logger;
}

const DEFAULT_QUERY = `# flagledger: send your admin token as a header, e.g.
#   { "Authorization": "Bearer flt_..." }
# or a client key: { "X-Environment-Key": "env_..." }
{
  viewer { kind scopes }
}
`;

export function createApp(services: Services): App {
  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    // readBody already enforces BODY_LIMIT_BYTES; Yoga's own limit would stream every body
    // through another pipe (measured: a sixth of `flags` throughput).
    maxRequestBodySize: false,
    // Compiled execution (graphql-jit): `flags` answers hundreds of fields per request, and
    // graphql-js's interpreter would spend most of the request on them (BENCHMARKS.md).
    plugins: [useInputIntegrity(), useGraphQlJit()],
    landingPage: false,
    logging: false,
    graphiql: { title: 'flagledger GraphiQL', defaultQuery: DEFAULT_QUERY },
    renderGraphiQL: renderGraphiQLPage,
    maskedErrors: {
      maskError(error, message) {
        const original = isGraphQLError(error) ? error.originalError : error;
        // Errors raised as GraphQLErrors on purpose (auth, validation, limits) pass as they are.
        if (isGraphQLError(error) && (!original || isGraphQLError(original))) return error;
        services.logger.error({ err: original }, 'unexpected error while resolving a request');
        return new GraphQLError(message, {
          nodes: isGraphQLError(error) ? error.nodes : undefined,
          path: isGraphQLError(error) ? error.path : undefined,
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        });
      },
    },
    context: async ({ request, requestId, logger }) => ({
      services,
      prisma: services.prisma,
      caller: await resolveCaller(services, request.headers),
      requestId,
      logger,
    }),
  });

  // Connection bookkeeping for a graceful drain: which sockets are busy, and since when
  // the others have been idle.
  const sockets = new Map<Socket, { active: number; idleSince: number }>();
  let draining = false;
  let lastConnectionAt = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const header = req.headers['x-request-id'];
    const requestId = typeof header === 'string' && /^[\w.-]{1,100}$/.test(header) ? header : randomUUID();
    const logger = services.logger.child({ reqId: requestId });
    res.setHeader('x-request-id', requestId);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const socketState = sockets.get(req.socket);
    if (socketState) socketState.active++;
    if (draining) res.setHeader('connection', 'close');
    res.on('close', () => {
      if (socketState) {
        socketState.active--;
        socketState.idleSince = Date.now();
      }
      logger.debug(
        { method: req.method, path: url.pathname, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 },
        'request',
      );
    });
    try {
      // Parsers downstream (URLSearchParams, Yoga) would turn bad bytes into U+FFFD silently.
      const targetProblem = requestTargetProblem(req.url ?? '/');
      if (targetProblem) return sendInvalidInput(res, targetProblem);
      if (url.pathname === '/health') return sendJson(res, 200, { status: 'ok' });
      if (url.pathname === '/ready') return await ready(res);
      if (url.pathname.startsWith(GRAPHIQL_ASSET_PREFIX) && (req.method === 'GET' || req.method === 'HEAD')) return await graphiqlAsset(req, res, url);
      const route = routes.find((r) => r.path === url.pathname && r.method === req.method);
      if (route) return await route.handle(req, res, { services, requestId, logger, url });
      if (url.pathname !== '/graphql') return sendJson(res, 404, { error: 'not found' });
      await graphql(req, res, url, { requestId, logger });
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        return sendJson(res, 413, { errors: [{ message: 'Request body too large.', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
      }
      logger.error({ err: error }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  }

  async function graphql(req: IncomingMessage, res: ServerResponse, url: URL, context: ServerContext) {
    const method = req.method ?? 'GET';
    const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(req, services.config.bodyLimitBytes);
    if (body) {
      // Yoga decodes bodies leniently: bytes that are not UTF-8 would become U+FFFD.
      if (!isUtf8(body)) return sendInvalidInput(res, 'The request body is not valid UTF-8.');
      const formProblem = /^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '') ? percentEncodedProblem(body.toString()) : undefined;
      if (formProblem) return sendInvalidInput(res, formProblem);
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await yoga.fetch(new URL(url.pathname + url.search, 'http://localhost'), { method, headers, body: body as BodyInit | undefined }, context);
    res.statusCode = response.status;
    response.headers.forEach((value, name) => res.setHeader(name, value));
    if (!response.body) return void res.end();
    // Plain results are small: one write. Streams (e.g. SSE) are piped with backpressure.
    const type = response.headers.get('content-type') ?? '';
    if (type.startsWith('application/graphql-response+json') || type.startsWith('application/json') || type.startsWith('text/html')) {
      res.end(Buffer.from(await response.arrayBuffer()));
      return;
    }
    await new Promise<void>((resolve, reject) => {
      Readable.fromWeb(response.body as never).on('error', reject).pipe(res).on('finish', resolve).on('error', reject);
    });
  }

  async function ready(res: ServerResponse) {
    try {
      await services.prisma.$queryRaw`SELECT 1`;
      const pending = await pendingMigrations(services.db);
      if (pending.length) return sendJson(res, 503, { status: 'migrations pending', pending });
      sendJson(res, 200, { status: 'ready' });
    } catch (error) {
      sendJson(res, 503, { status: 'database unavailable', error: error instanceof Error ? error.message : String(error) });
    }
  }

  async function graphiqlAsset(req: IncomingMessage, res: ServerResponse, url: URL) {
    const asset = (await graphiqlAssets()).get(url.pathname.slice(GRAPHIQL_ASSET_PREFIX.length));
    if (!asset) return sendJson(res, 404, { error: 'not found' });
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
  server.on('connection', (socket: Socket) => {
    lastConnectionAt = Date.now();
    sockets.set(socket, { active: 0, idleSince: lastConnectionAt });
    socket.on('close', () => sockets.delete(socket));
  });

  return {
    server,
    yoga,
    drain(timeoutMs) {
      draining = true;
      // Node's close() drops idle keep-alive sockets at once, and closing the listening socket
      // resets connections still in the kernel's accept queue (a busy loop, e.g. PGlite's,
      // accepts slowly): requests a client sent before SIGTERM would be lost. So the listener
      // stays open until no connection has arrived for a grace period, every response says
      // `Connection: close`, and idle sockets are retired once idle for that period too.
      server.closeIdleConnections = () => {};
      return new Promise<void>((resolve) => {
        const deadline = Date.now() + timeoutMs;
        let listening = true;
        const step = () => {
          const now = Date.now();
          if (listening && (now > deadline || now - lastConnectionAt > IDLE_GRACE_MS)) {
            listening = false;
            server.close();
          }
          for (const [socket, state] of sockets) {
            if (now > deadline || (state.active === 0 && now - state.idleSince > IDLE_GRACE_MS)) socket.destroy();
          }
          if (!listening && sockets.size === 0) {
            clearInterval(poll);
            resolve();
          }
        };
        // setImmediate runs right after the poll phase, so connections and bytes that arrived
        // while the loop was busy have been accepted and parsed before we look.
        const poll = setInterval(() => setImmediate(step), 25);
      });
    },
  };
}

/** How long an idle connection is kept during a drain, for a request already on its way. */
const IDLE_GRACE_MS = 300;

/** By name too: a dependency may carry its own copy of graphql-js (CJS beside ESM). */
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError || (error instanceof Error && error.name === 'GraphQLError');
}

function sendInvalidInput(res: ServerResponse, message: string): void {
  sendJson(res, 400, { errors: [{ message, extensions: { code: 'INVALID_INPUT' } }] });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
