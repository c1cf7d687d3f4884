// Runtime configuration, read once from the environment (README: "Configuration").
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';

export interface Config {
  port: number;
  host: string;
  /** PostgreSQL connection string; absent = embedded PGlite under dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  databasePoolSize: number;
  /** Secret of the admin token created on the first start (never printed). */
  adminToken: string | undefined;
  logLevel: string;
  bodyLimitBytes: number;
  /** Seconds an evaluation config may be served from memory without a change notice. */
  cacheTtlSeconds: number;
  maxQueryDepth: number;
  maxQueryComplexity: number;
  /** Lexical tokens in a GraphQL document, checked before it is parsed. */
  maxQueryTokens: number;
  /** Aliases in a GraphQL document, checked before it is parsed. */
  maxQueryAliases: number;
  /** Origins browsers may call from: `*` (any, without credentials) or a list. */
  corsOrigins: '*' | string[];
  /** Whether client keys and anonymous callers may introspect the schema (tokens always may). */
  introspection: boolean;
  shutdownTimeoutMs: number;
  /** Open OFREP event streams (SSE) one process serves; more are refused with 503. */
  ofrepMaxStreams: number;
  /** Open GraphQL subscriptions (`flagsChanged` over SSE) one process serves; more get TOO_MANY_SUBSCRIPTIONS. */
  maxSubscriptions: number;
  /**
   * Trusted documents from PERSISTED_OPERATIONS, by hash: when set, client keys (and anonymous
   * callers) may only run these; tokens may still send any document.
   */
  persistedOperations: ReadonlyMap<string, string> | undefined;
}

/** Most field selections a query may make (fragments expanded); also checked before parsing. */
export const MAX_QUERY_BREADTH = 500;

export class ConfigError extends Error {}

/** Most documents a PERSISTED_OPERATIONS file may list (a frontend has tens, not thousands). */
const PERSISTED_OPERATIONS_MAX = 10_000;

/**
 * Reads a trusted-documents file: the `{ "<hash>": "<document>" }` JSON object GraphQL Code
 * Generator's client preset writes (`persistedDocuments`). Every document must parse.
 */
export function readPersistedOperations(path: string): ReadonlyMap<string, string> {
  const name = `PERSISTED_OPERATIONS (${path})`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${name} cannot be read: ${(error as Error).message}`);
  }
  let map: unknown;
  try {
    map = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${name} is not JSON: ${(error as Error).message}`);
  }
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new ConfigError(`${name} must be a JSON object of { "<hash>": "<GraphQL document>" }`);
  }
  const entries = Object.entries(map);
  if (entries.length > PERSISTED_OPERATIONS_MAX) throw new ConfigError(`${name} lists ${entries.length} documents, at most ${PERSISTED_OPERATIONS_MAX}`);
  const operations = new Map<string, string>();
  for (const [hash, document] of entries) {
    if (!/^[\w:.-]{1,200}$/.test(hash)) throw new ConfigError(`${name}: "${hash.slice(0, 64)}" is not a document hash`);
    if (typeof document !== 'string') throw new ConfigError(`${name}: the document of ${hash} is not a string`);
    try {
      parse(document);
    } catch (error) {
      throw new ConfigError(`${name}: the document of ${hash} does not parse: ${(error as Error).message}`);
    }
    // Codegen writes `sha256:<hex>`; clients send the hex alone (APQ) or the whole id (documentId).
    operations.set(hash.replace(/^sha256:/, ''), document);
  }
  return operations;
}

function boolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

function origins(env: NodeJS.ProcessEnv, name: string): '*' | string[] {
  const raw = env[name]?.trim();
  if (!raw || raw === '*') return '*';
  const list = raw.split(',').map((origin) => origin.trim()).filter(Boolean);
  for (const origin of list) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    // An origin is scheme://host[:port], exactly as browsers send it in `Origin`.
    if (!url || url.origin !== origin) {
      throw new ConfigError(`${name} must be * or a comma list of origins like https://app.example.com, got "${origin}"`);
    }
  }
  return list;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    databaseUrl: env.DATABASE_URL?.trim() || undefined,
    dataDir: env.DATA_DIR?.trim() || './.flagledger',
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    adminToken: env.ADMIN_TOKEN?.trim() || undefined,
    logLevel: env.LOG_LEVEL?.trim() || 'info',
    // A full recordExposures batch (1000 items of 2000-character identifiers, 200-character
    // eventIds, even in multi-byte UTF-8) fits in the default.
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 4 * 1024 * 1024, 1024, 256 * 1024 * 1024),
    cacheTtlSeconds: integer(env, 'CACHE_TTL_SECONDS', 30, 0, 86_400),
    maxQueryDepth: integer(env, 'MAX_QUERY_DEPTH', 12, 2, 100),
    maxQueryComplexity: integer(env, 'MAX_QUERY_COMPLEXITY', 50_000, 10, 10_000_000),
    maxQueryTokens: integer(env, 'MAX_QUERY_TOKENS', 10_000, 100, 1_000_000),
    maxQueryAliases: integer(env, 'MAX_QUERY_ALIASES', 100, 0, 100_000),
    corsOrigins: origins(env, 'CORS_ORIGINS'),
    introspection: boolean(env, 'INTROSPECTION', true),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    ofrepMaxStreams: integer(env, 'OFREP_MAX_STREAMS', 1000, 0, 1_000_000),
    maxSubscriptions: integer(env, 'MAX_SUBSCRIPTIONS', 1000, 0, 1_000_000),
    persistedOperations: env.PERSISTED_OPERATIONS?.trim() ? readPersistedOperations(env.PERSISTED_OPERATIONS.trim()) : undefined,
  };
}
