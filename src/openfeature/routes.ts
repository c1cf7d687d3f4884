// The OFREP routes (SPEC.md section 10): single and bulk evaluation, and the SSE stream of
// change notifications the bulk response points at.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HeaderReader } from '../auth/caller.js';
import type { Caller } from '../auth/credentials.js';
import type { RequestLogger } from '../logger.js';
import { readBody, BodyTooLargeError } from '../http/body.js';
import { sendJson } from '../http/bridge.js';
import type { HttpRoute, RouteTarget } from '../http/route.js';
import { OfrepError } from './errors.js';
import { ifNoneMatchHits, OFREP_BODY_MAX_BYTES, type OfrepContext, parseEvaluationRequest, parseFlagKey } from './normalise.js';

export const OFREP_FLAGS_PATH = '/ofrep/v1/evaluate/flags';
export const OFREP_EVENTS_PATH = '/ofrep/v1/events';
/** EventSource cannot send headers: the stream URL carries the (public) client key. */
const EVENTS_KEY_PARAM = 'environmentKey';
const KEEP_ALIVE_MS = 15_000;
const REFETCH_EVENT = `data: ${JSON.stringify({ type: 'refetchEvaluation' })}\n\n`;

/**
 * The environment key from any header OFREP providers send it in (`Authorization: Bearer env_...`,
 * `X-API-Key`, `X-Environment-Key`), as the shared caller resolution reads it. A bearer secret
 * that is not an environment key stays a bearer token (and is then refused: tokens do not evaluate).
 */
export function ofrepCredentials(headers: HeaderReader, target: RouteTarget): HeaderReader {
  const key =
    headers.get('x-environment-key') ??
    headers.get('x-api-key') ??
    BEARER_ENVIRONMENT_KEY.exec(headers.get('authorization') ?? '')?.[1] ??
    (target.path === OFREP_EVENTS_PATH ? target.url.searchParams.get(EVENTS_KEY_PARAM) : null);
  if (key === null) return headers;
  return new EnvironmentKeyHeaders(key, headers);
}

const BEARER_ENVIRONMENT_KEY = /^Bearer\s+(env_\S+)\s*$/i;

/** The headers with the environment key as `X-Environment-Key` and no `Authorization` (a class: no closure per request). */
class EnvironmentKeyHeaders implements HeaderReader {
  constructor(
    private readonly key: string,
    private readonly headers: HeaderReader,
  ) {}

  get(name: string): string | null {
    return name === 'authorization' ? null : name === 'x-environment-key' ? this.key : this.headers.get(name);
  }
}

function clientEnvironment(caller: Caller) {
  if (caller.kind !== 'client') throw new Error('OFREP routes are for client keys only');
  return { environmentId: caller.environmentId, projectId: caller.projectId };
}

/** OFREP's failure shapes; anything unexpected is logged and answered 500 without internals. */
function answerFailure(res: ServerResponse, error: unknown, logger: RequestLogger, key?: string): void {
  if (error instanceof OfrepError) return sendFailure(res, error, key);
  logger.error({ err: error }, 'OFREP evaluation failed');
  if (res.headersSent) return void res.destroy();
  sendJson(res, 500, { errorCode: 'GENERAL', errorDetails: 'An internal server error occurred.' });
}

function sendFailure(res: ServerResponse, error: OfrepError, key?: string): void {
  sendJson(res, error.status, key === undefined ? { errorCode: error.code, errorDetails: error.message } : { key, errorCode: error.code, errorDetails: error.message });
}

/** The request's context: at once when its body is at hand (readBody), else awaited. */
function readContext(req: IncomingMessage): OfrepContext | Promise<OfrepContext> {
  const body = readBody(req, OFREP_BODY_MAX_BYTES);
  return body instanceof Promise ? body.then(parseEvaluationRequest, bodyFailure) : parseEvaluationRequest(body);
}

function bodyFailure(error: unknown): never {
  if (error instanceof BodyTooLargeError) throw new OfrepError(400, 'INVALID_CONTEXT', `The request body is larger than ${OFREP_BODY_MAX_BYTES} bytes.`);
  throw error;
}

/** Where the stream is, as the client reached this server. */
function eventsUrl(req: IncomingMessage, environmentKey: string): string {
  const host = req.headers.host;
  const forwarded = req.headers['x-forwarded-proto'];
  const scheme = forwarded === 'https' || forwarded === 'http' ? forwarded : 'encrypted' in req.socket ? 'https' : 'http';
  const authority = typeof host === 'string' && /^[A-Za-z0-9.:[\]-]{1,300}$/.test(host) ? host : 'localhost';
  return `${scheme}://${authority}${OFREP_EVENTS_PATH}?${EVENTS_KEY_PARAM}=${encodeURIComponent(environmentKey)}`;
}

const single: HttpRoute = {
  method: 'POST',
  path: `${OFREP_FLAGS_PATH}/`,
  prefix: true,
  scopes: ['client'],
  credentials: ofrepCredentials,
  async handle(req, res, { services, caller, path, logger }) {
    const encoded = path.slice(OFREP_FLAGS_PATH.length + 1);
    let key: string | undefined;
    try {
      key = parseFlagKey(encoded);
      const context = await readContext(req);
      const result = await services.openfeature.evaluateFlag(clientEnvironment(caller), key, context);
      sendJson(res, 200, result);
    } catch (error) {
      answerFailure(res, error, logger, key ?? encoded.slice(0, 200));
    }
  },
};

const bulk: HttpRoute = {
  method: 'POST',
  path: OFREP_FLAGS_PATH,
  scopes: ['client'],
  credentials: ofrepCredentials,
  async handle(req, res, { services, caller, credentials, logger }) {
    try {
      // A revalidation usually has everything at hand: no await (readContext, evaluateFlags).
      const pendingContext = readContext(req);
      const context = pendingContext instanceof Promise ? await pendingContext : pendingContext;
      const pending = services.openfeature.evaluateFlags(clientEnvironment(caller), context);
      const evaluation = pending instanceof Promise ? await pending : pending;
      const { etag } = evaluation;
      res.setHeader('etag', etag);
      res.setHeader('cache-control', 'private, no-cache');
      if (ifNoneMatchHits(req.headers['if-none-match'], etag)) {
        res.writeHead(304);
        return void res.end();
      }
      const environmentKey = credentials.get('x-environment-key') ?? '';
      sendJson(res, 200, { flags: evaluation.flags(), eventStreams: [{ type: 'sse', url: eventsUrl(req, environmentKey) }] });
    } catch (error) {
      answerFailure(res, error, logger);
    }
  },
};

const events: HttpRoute = {
  method: 'GET',
  path: OFREP_EVENTS_PATH,
  scopes: ['client'],
  credentials: ofrepCredentials,
  async handle(req, res, { services, caller }) {
    const { environmentId } = clientEnvironment(caller);
    let keepAlive: NodeJS.Timeout | undefined;
    const close = () => {
      clearInterval(keepAlive);
      if (!res.writableEnded) res.end();
    };
    const unregister = services.openfeature.openStream(environmentId, {
      notify: () => void res.write(REFETCH_EVENT),
      close,
    });
    if (!unregister) {
      res.setHeader('retry-after', '30');
      return sendJson(res, 503, { errorCode: 'GENERAL', errorDetails: 'Too many event streams on this server: retry later.' });
    }
    res.on('close', () => {
      unregister();
      clearInterval(keepAlive);
    });
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    });
    res.write(': connected\n\n');
    keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    keepAlive.unref();
  },
};

export const ofrepRoutes: HttpRoute[] = [single, bulk, events];
