// The HTTP application: /graphql (Yoga), GraphiQL's assets, /health, /ready and the plain
// routes of src/http/routes.ts, on node:http.
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { GraphQLError, NoSchemaIntrospectionCustomRule, validate } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { type Context, resolveCaller, type Services } from './context.js';
import { pendingMigrations } from './db/migrator.js';
import { GRAPHIQL_ASSET_PREFIX, graphiqlAssets, renderGraphiQLPage } from './graphiql/assets.js';
import type { Config } from './config.js';
import { MAX_QUERY_BREADTH } from './config.js';
import { BodyTooLargeError, readBody } from './http/body.js';
import { exceededDocumentLimit } from './http/document-limits.js';
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
    // The document limits come first: nothing may parse, cache or compile a document before
    // its size is known to be sane. Input integrity runs before the compiled executor, which
    // would otherwise see JSON literals without their variables.
    plugins: [documentLimits(services.config), introspectionLimit(services.config), useInputIntegrity(), useGraphQlJit()],
    // CORS is answered in handle(), for every route alike.
    cors: false,
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
      readOnly: request.method === 'GET' || request.method === 'HEAD',
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
    res.setHeader('x-content-type-options', 'nosniff');
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
      if (cors(req, res)) return;
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
    if (method === 'POST' && !acceptedContentType(req.headers['content-type'])) {
      res.setHeader('accept-post', ACCEPTED_CONTENT_TYPES.join(', '));
      return sendJson(res, 415, {
        errors: [
          {
            message: `POST /graphql takes a body of type ${ACCEPTED_CONTENT_TYPES.join(' or ')}.`,
            extensions: { code: 'UNSUPPORTED_MEDIA_TYPE' },
          },
        ],
      });
    }
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
    // Yoga reads JSON bodies only when they say application/json.
    if (method === 'POST') headers.set('content-type', 'application/json');
    const response = await yoga.fetch(new URL(url.pathname + url.search, 'http://localhost'), { method, headers, body: body as BodyInit | undefined }, context);
    res.statusCode = response.status;
    response.headers.forEach((value, name) => res.setHeader(name, value));
    if (response.headers.get('content-type')?.startsWith('text/html')) setPageSecurityHeaders(res);
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
      // The reason may name hosts, users or files: it goes to the log, not to the caller.
      services.logger.error({ err: error }, 'readiness check: database unavailable');
      sendJson(res, 503, { status: 'database unavailable' });
    }
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

  /** Answers CORS: headers on every response to a listed origin, and preflights (true: done). */
  function cors(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    const allowed = services.config.corsOrigins;
    if (allowed !== '*') res.setHeader('vary', 'Origin');
    if (typeof origin !== 'string') return false;
    if (allowed === '*') res.setHeader('access-control-allow-origin', '*');
    else if (allowed.includes(origin)) res.setHeader('access-control-allow-origin', origin);
    else return false;
    res.setHeader('access-control-expose-headers', 'x-request-id, x-exposure-horizon, etag');
    if (req.method !== 'OPTIONS' || !req.headers['access-control-request-method']) return false;
    res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    res.setHeader('access-control-allow-headers', 'authorization, content-type, accept, x-environment-key, x-request-id, if-none-match');
    res.setHeader('access-control-max-age', '600');
    res.writeHead(204, { 'content-length': '0' });
    res.end();
    return true;
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

const ACCEPTED_CONTENT_TYPES = ['application/json', 'application/graphql-response+json'];

/**
 * Only JSON bodies execute: a browser sends form and text/plain bodies cross-origin without a
 * preflight, so accepting them would let any web page run mutations with a visitor's network
 * position.
 */
function acceptedContentType(header: string | undefined): boolean {
  const type = header?.split(';', 1)[0].trim().toLowerCase();
  return type !== undefined && ACCEPTED_CONTENT_TYPES.includes(type);
}

/** The GraphiQL page and its assets load only from this server and are never framed. */
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function setPageSecurityHeaders(res: ServerResponse): void {
  res.setHeader('content-security-policy', PAGE_CSP);
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'no-referrer');
}

function limitError(message: string, code: string, status: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status } } });
}

/** Refuses oversized documents before Yoga parses, validates, caches or compiles them. */
function documentLimits(config: Config): Plugin {
  const limits = {
    maxTokens: config.maxQueryTokens,
    maxAliases: config.maxQueryAliases,
    maxFields: MAX_QUERY_BREADTH,
    maxNesting: Math.max(64, 2 * config.maxQueryDepth),
  };
  return {
    onParams({ params, setResult }) {
      if (typeof params.query !== 'string') return;
      const exceeded = exceededDocumentLimit(params.query, limits);
      if (exceeded) setResult({ errors: [limitError(exceeded.message, 'QUERY_TOO_LARGE', 400)] });
    },
  };
}

/** With INTROSPECTION off, only tokens may ask for the schema. */
function introspectionLimit(config: Config): Plugin<Context> {
  if (config.introspection) return {};
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const caller = (args.contextValue as Context).caller;
      if (caller.kind === 'token') return;
      const errors = validate(args.schema, args.document, [NoSchemaIntrospectionCustomRule]);
      if (errors.length) {
        setResultAndStopExecution({
          errors: [limitError('Introspection is turned off for client keys and anonymous callers.', 'INTROSPECTION_DISABLED', 403)],
        });
      }
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
