// CORS and the security headers of HTML pages (GraphiQL).
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Answers CORS: headers on every response to a listed origin, and preflights (true: done). */
export function answerCors(req: IncomingMessage, res: ServerResponse, allowed: '*' | string[]): boolean {
  const origin = req.headers.origin;
  if (allowed !== '*') res.setHeader('vary', 'Origin');
  if (typeof origin !== 'string') return false;
  if (allowed === '*') res.setHeader('access-control-allow-origin', '*');
  else if (allowed.includes(origin)) res.setHeader('access-control-allow-origin', origin);
  else return false;
  res.setHeader('access-control-expose-headers', 'x-request-id, x-exposure-horizon, etag');
  if (req.method !== 'OPTIONS' || !req.headers['access-control-request-method']) return false;
  res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
  res.setHeader('access-control-allow-headers', 'authorization, content-type, accept, x-environment-key, x-api-key, x-request-id, if-none-match');
  res.setHeader('access-control-max-age', '600');
  res.writeHead(204, { 'content-length': '0' });
  res.end();
  return true;
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

export function setPageSecurityHeaders(res: ServerResponse): void {
  res.setHeader('content-security-policy', PAGE_CSP);
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'no-referrer');
}

/**
 * The experiment results pages: like GraphiQL's, and stricter: no inline style either (uPlot
 * styles its elements through the CSSOM, which CSP does not restrict), and the page talks only
 * to this server's /graphql.
 */
const RESULTS_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function setResultsPageSecurityHeaders(res: ServerResponse): void {
  res.setHeader('content-security-policy', RESULTS_PAGE_CSP);
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'no-referrer');
}
