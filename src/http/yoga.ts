// /graphql: Yoga with its plugins (document limits, introspection, input integrity, compiled
// execution) and error masking, and the handler that feeds it node:http requests.
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { getOperationAST, GraphQLError, NoSchemaIntrospectionCustomRule, validate } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Caller } from '../auth/credentials.js';
import type { Services } from '../composition.js';
import type { Config } from '../config.js';
import { MAX_QUERY_BREADTH } from '../config.js';
import type { Context } from '../context.js';
import type { RequestLogger } from '../logger.js';
import { schema } from '../schema/index.js';
import { readBody } from './body.js';
import { headerRecord, sendFetchResponse, sendJson, sendInvalidInput } from './bridge.js';
import { exceededDocumentLimit } from './document-limits.js';
import { renderGraphiQLPage } from './graphiql/assets.js';
import { setPageSecurityHeaders } from './headers.js';
import { percentEncodedProblem, useInputIntegrity } from './input-integrity.js';
import { trustedDocuments } from './trusted-documents.js';

export interface ServerContext {
  requestId: string;
  logger: RequestLogger;
}

export type GraphQLYoga = YogaServerInstance<ServerContext, Context>;

const DEFAULT_QUERY = `# flagledger: send your admin token as a header, e.g.
#   { "Authorization": "Bearer flt_..." }
# or a client key: { "X-Environment-Key": "env_..." }
{
  viewer { kind scopes }
}
`;

export function createGraphQLYoga(services: Services): GraphQLYoga {
  // The caller is resolved once per request: trusted documents need it before the context exists.
  const callers = new WeakMap<Request, Caller | Promise<Caller>>();
  const callerOf = (request: Request): Caller | Promise<Caller> => {
    let caller = callers.get(request);
    if (!caller) callers.set(request, (caller = services.resolveCaller(request.headers)));
    return caller;
  };
  return createYoga<ServerContext, Context>({
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
    // Trusted documents come first of all: a client's unlisted document is refused unread.
    plugins: [
      trustedDocuments(services.config, callerOf),
      documentLimits(services.config),
      introspectionLimit(services.config),
      useInputIntegrity(),
      // Queries and mutations only: graphql-jit's compiled subscribe hands a subscription's
      // resolver the operation's variables instead of its field arguments (flagsChanged with a
      // literal identifier, or with variables named otherwise, saw none). graphql-js subscribes.
      useGraphQlJit({}, { enableIf: (args) => getOperationAST(args.document, args.operationName)?.operation !== 'subscription' }),
    ],
    // GraphQL over HTTP names a persisted document by `documentId` too.
    extraParamNames: ['documentId'],
    // CORS is answered in the app, for every route alike.
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
      caller: await callerOf(request),
      readOnly: request.method === 'GET' || request.method === 'HEAD',
      requestId,
      logger,
    }),
  });
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

/** Serves one /graphql request through Yoga. */
export async function handleGraphQL(
  yoga: GraphQLYoga,
  config: Config,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  context: ServerContext,
): Promise<void> {
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
  const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(req, config.bodyLimitBytes);
  if (body) {
    // Yoga decodes bodies leniently: bytes that are not UTF-8 would become U+FFFD.
    if (!isUtf8(body)) return sendInvalidInput(res, 'The request body is not valid UTF-8.');
    const formProblem = /^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '') ? percentEncodedProblem(body.toString()) : undefined;
    if (formProblem) return sendInvalidInput(res, formProblem);
  }
  // A plain record (and a string URL) for Yoga's own Request: it reads them lazily, where
  // Fetch's Headers would copy and validate every header first.
  const headers = headerRecord(req);
  // Yoga reads JSON bodies only when they say application/json.
  if (method === 'POST') headers['content-type'] = 'application/json';
  const response = await yoga.fetch(`http://localhost${url.pathname}${url.search}`, { method, headers, body: body as BodyInit | undefined }, context);
  await sendFetchResponse(res, response, (type) => {
    if (type.startsWith('text/html')) setPageSecurityHeaders(res);
  });
}

function limitError(message: string, code: string, status: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status } } });
}

/** As many as Yoga's parser cache keeps. */
const PASSED_DOCUMENTS_MAX = 1000;
/**
 * Only documents up to this size are remembered: a frontend's operations are small, and a
 * caller sending large ones (long literals, up to the body limit) must not make the process
 * hold PASSED_DOCUMENTS_MAX of them.
 */
const PASSED_DOCUMENT_CHARS_MAX = 16 * 1024;

/** Refuses oversized documents before Yoga parses, validates, caches or compiles them. */
function documentLimits(config: Config): Plugin {
  const limits = {
    maxTokens: config.maxQueryTokens,
    maxAliases: config.maxQueryAliases,
    maxFields: MAX_QUERY_BREADTH,
    maxNesting: Math.max(64, 2 * config.maxQueryDepth),
  };
  // Documents that passed, so that a client's fixed operation is scanned once, not per request.
  const passed = new Set<string>();
  return {
    onParams({ params, setResult }) {
      if (typeof params.query !== 'string' || passed.has(params.query)) return;
      const exceeded = exceededDocumentLimit(params.query, limits);
      if (exceeded) return setResult({ errors: [limitError(exceeded.message, 'QUERY_TOO_LARGE', 400)] });
      if (params.query.length > PASSED_DOCUMENT_CHARS_MAX) return;
      if (passed.size >= PASSED_DOCUMENTS_MAX) passed.clear();
      passed.add(params.query);
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

/** By name too: a dependency may carry its own copy of graphql-js (CJS beside ESM). */
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError || (error instanceof Error && error.name === 'GraphQLError');
}
