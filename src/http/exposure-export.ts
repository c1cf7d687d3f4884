// GET /exports/exposures (SPEC.md section 6): the exposure log of an environment as NDJSON
// or CSV, in id order, for incremental warehouse jobs (`after` = the last id they saw).
//
// Constant memory: rows are read in keyset pages of EXPORT_PAGE_SIZE (id > last id), at most
// one page is read ahead while the previous one is written, and writing waits for 'drain'
// whenever the socket's buffer is full, so a slow client slows the reads down instead of
// filling the heap. The export ends at the settled horizon taken when it starts (see
// analytics/horizon.ts): everything up to the last row sent is final, and the next run picks up what
// was written meanwhile.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringify } from 'csv-stringify/sync';
import type { Database } from '../db/database.js';
import { AppError, httpStatusOf } from '../errors/app-errors.js';
import { sendError } from './bridge.js';
import type { HttpRoute, RouteContext } from './route.js';
import { decodeGlobalId } from '../schema/global-id.js';
import { resolveAnalyticsScope } from '../analytics/scope.js';

export const EXPORT_PAGE_SIZE = 5000;

export const EXPORT_COLUMNS = [
  'id',
  'environmentId',
  'feature',
  'variantKey',
  'identifier',
  'exposedAt',
  'receivedAt',
  'source',
  'matchesAssignment',
  'eventId',
] as const;

interface ExportRow {
  id: bigint;
  environmentId: number;
  feature: string;
  variantKey: string;
  identifier: string;
  exposedAt: Date;
  receivedAt: Date;
  source: string;
  matchesAssignment: boolean;
  eventId: string | null;
}

interface ExportParams {
  environmentId: number;
  feature: string | undefined;
  after: bigint;
  format: 'ndjson' | 'csv';
}

function parseParams(url: URL): ExportParams | string {
  const environment = url.searchParams.get('environment');
  if (environment === null) return 'The `environment` parameter (an Environment id) is required.';
  // An id that names no environment (malformed, another type) is one that does not exist: 404.
  const decoded = decodeGlobalId(environment);
  const environmentId = decoded?.typename === 'Environment' ? Number(decoded.id) : 0;
  const feature = url.searchParams.get('feature') ?? undefined;
  if (feature !== undefined && feature.length === 0) return '`feature` must be a feature name.';
  const afterText = url.searchParams.get('after') ?? '0';
  if (!/^(0|[1-9][0-9]{0,18})$/.test(afterText)) return '`after` must be an exposure id (a whole number).';
  const format = url.searchParams.get('format') ?? 'ndjson';
  if (format !== 'ndjson' && format !== 'csv') return '`format` must be `ndjson` or `csv`.';
  return { environmentId, feature, after: BigInt(afterText), format };
}

interface PageQuery {
  environmentId: number;
  featureId: number | undefined;
}

/**
 * One keyset page, straight through the driver (a pooled connection per page, so a long
 * export never holds one): Prisma's row mapping would cost a fifth of the time here.
 */
async function readPage(db: Database, scope: PageQuery, after: bigint, horizon: bigint): Promise<ExportRow[]> {
  const params: unknown[] = [scope.environmentId, after.toString(), horizon.toString(), EXPORT_PAGE_SIZE];
  if (scope.featureId !== undefined) params.push(scope.featureId);
  const rows = await db.withSession((session) =>
    session.query<ExportRow>(
      `SELECT e.id, e."environmentId", f.name AS feature, e."variantKey", i.identifier, e."exposedAt", e."receivedAt",
              e.source::text AS source, e."matchesAssignment", e."eventId"
       FROM "Exposure" e
       JOIN "Feature" f ON f.id = e."featureId"
       JOIN "Identity" i ON i.id = e."identityId"
       WHERE e."environmentId" = $1 AND e.id > $2::bigint AND e.id <= $3::bigint
             ${scope.featureId !== undefined ? 'AND e."featureId" = $5' : ''}
       ORDER BY e.id
       LIMIT $4`,
      params,
    ),
  );
  // node-postgres gives int8 as a string, PGlite as a bigint or number: one shape for both.
  for (const row of rows) {
    row.id = BigInt(row.id);
    if (!(row.exposedAt instanceof Date)) row.exposedAt = new Date(row.exposedAt);
    if (!(row.receivedAt instanceof Date)) row.receivedAt = new Date(row.receivedAt);
  }
  return rows;
}

function ndjson(rows: ExportRow[]): string {
  let out = '';
  for (const row of rows) {
    out += `${JSON.stringify({
      id: Number(row.id),
      environmentId: row.environmentId,
      feature: row.feature,
      variantKey: row.variantKey,
      identifier: row.identifier,
      exposedAt: row.exposedAt.toISOString(),
      receivedAt: row.receivedAt.toISOString(),
      source: row.source,
      matchesAssignment: row.matchesAssignment,
      eventId: row.eventId,
    })}\n`;
  }
  return out;
}

function csv(rows: ExportRow[], header: boolean): string {
  const records = rows.map((row) => [
    row.id.toString(),
    String(row.environmentId),
    row.feature,
    row.variantKey,
    row.identifier,
    row.exposedAt.toISOString(),
    row.receivedAt.toISOString(),
    row.source,
    row.matchesAssignment ? 'true' : 'false',
    row.eventId ?? '',
  ]);
  return stringify(records, { header, columns: [...EXPORT_COLUMNS] });
}

/** Resolves once the response can take more (or is gone). */
function drained(res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function handle(_req: IncomingMessage, res: ServerResponse, context: RouteContext): Promise<void> {
  const { services, url } = context;
  const params = parseParams(url);
  if (typeof params === 'string') return sendError(res, 400, 'INVALID_INPUT', params);

  let featureId: number | undefined;
  try {
    const scope = await resolveAnalyticsScope(services.prisma, params.environmentId, params.feature);
    featureId = scope.feature?.id;
  } catch (error) {
    if (error instanceof AppError) return sendError(res, httpStatusOf(error), error.code, error.message);
    throw error;
  }
  const horizon = await services.horizon.settled();

  res.writeHead(200, {
    'content-type': params.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-store',
    // Rows with ids up to this one are final; a run that got everything resumes from here.
    'x-exposure-horizon': horizon.toString(),
  });
  let closed = false;
  res.on('close', () => {
    closed = true;
  });

  const scope = { environmentId: params.environmentId, featureId };
  let header = params.format === 'csv';
  let next: Promise<ExportRow[]> | undefined = params.after < horizon ? readPage(services.db, scope, params.after, horizon) : undefined;
  if (header && !next) res.write(csv([], true));
  while (next && !closed) {
    const rows = await next;
    // Read the next page while this one is written (at most one page ahead).
    next = rows.length === EXPORT_PAGE_SIZE ? readPage(services.db, scope, rows[rows.length - 1].id, horizon) : undefined;
    // A rejected read-ahead must not go unhandled if the client has gone away meanwhile.
    next?.catch(() => {});
    const text = params.format === 'csv' ? csv(rows, header) : ndjson(rows);
    header = false;
    if (closed) break;
    if (text.length > 0 && !res.write(text)) await drained(res);
  }
  res.end();
}

export const exposureExportRoute: HttpRoute = { method: 'GET', path: '/exports/exposures', scopes: ['analytics'], handle };
