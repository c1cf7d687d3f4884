// Reading the exposure log in id order: the `exposures` connection's rules.
import type { Exposure, Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { ExposureHorizon } from './horizon.js';
import { AnalyticsLookupError } from './errors.js';
import { resolveAnalyticsScope } from './scope.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

const CURSOR_PREFIX = 'exposure:';

/** Opaque connection cursor of an exposure id. */
export function encodeExposureCursor(id: bigint): string {
  return Buffer.from(`${CURSOR_PREFIX}${id}`).toString('base64');
}

/**
 * The exposure id a cursor stands for. Takes the connection's cursors and, for jobs that also
 * use exports or SQL, a plain numeric exposure id (`databaseId`).
 */
export function decodeExposureCursor(cursor: string): bigint {
  const text = /^[0-9]+$/.test(cursor) ? cursor : Buffer.from(cursor, 'base64').toString('utf8');
  const digits = text.startsWith(CURSOR_PREFIX) ? text.slice(CURSOR_PREFIX.length) : text;
  if (!/^(0|[1-9][0-9]{0,18})$/.test(digits)) {
    throw new AnalyticsLookupError('INVALID_INPUT', 'The cursor is not a cursor of this connection (nor an exposure id).');
  }
  return BigInt(digits);
}

/** `first`: default 100; more than 1000 is served as 1000; negative is refused. */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (first < 0) throw new AnalyticsLookupError('INVALID_INPUT', '`first` must not be negative.');
  return Math.min(first, MAX_PAGE_SIZE);
}

export interface ExposureFilterInput {
  environmentId: number;
  feature?: string | null;
  variantKey?: string | null;
  identifier?: string | null;
  /** Inclusive bound on exposedAt. */
  from?: Date | null;
  /** Exclusive bound on exposedAt. */
  to?: Date | null;
}

export interface ExposurePage<Row> {
  rows: Row[];
  hasNextPage: boolean;
}

/**
 * One page of exposures after the cursor, in id order, never past the settled horizon (so a
 * reader that pages to the end and resumes later never skips a row that commits late).
 * `query` is the Prisma selection of the GraphQL fields below the nodes.
 */
export async function readExposurePage(
  prisma: PrismaClient,
  filter: ExposureFilterInput,
  page: { first?: number | null; after?: string | null },
  horizons: ExposureHorizon,
  query: { include?: Prisma.ExposureInclude; select?: Prisma.ExposureSelect } = {},
): Promise<ExposurePage<Exposure>> {
  const size = pageSize(page.first);
  const after = page.after === null || page.after === undefined ? 0n : decodeExposureCursor(page.after);
  const scope = await resolveAnalyticsScope(prisma, filter.environmentId, filter.feature);
  let identityId: number | undefined;
  if (filter.identifier !== null && filter.identifier !== undefined) {
    const identity = await prisma.identity.findUnique({
      where: { environmentId_identifier: { environmentId: scope.environmentId, identifier: filter.identifier } },
      select: { id: true },
    });
    // An identifier never seen has no exposures: an empty page, not an error.
    if (!identity) return { rows: [], hasNextPage: false };
    identityId = identity.id;
  }
  if (size === 0) return { rows: [], hasNextPage: false };
  const horizon = await horizons.settled();
  if (horizon <= after) return { rows: [], hasNextPage: false };

  const where: Prisma.ExposureWhereInput = {
    environmentId: scope.environmentId,
    id: { gt: after, lte: horizon },
    ...(scope.feature ? { featureId: scope.feature.id } : {}),
    ...(filter.variantKey !== null && filter.variantKey !== undefined ? { variantKey: filter.variantKey } : {}),
    ...(identityId !== undefined ? { identityId } : {}),
    ...(filter.from || filter.to
      ? { exposedAt: { ...(filter.from ? { gte: filter.from } : {}), ...(filter.to ? { lt: filter.to } : {}) } }
      : {}),
  };
  const rows = (await prisma.exposure.findMany({
    ...(query as object),
    where,
    orderBy: { id: 'asc' },
    take: size + 1,
  })) as Exposure[];
  return { rows: rows.slice(0, size), hasNextPage: rows.length > size };
}
