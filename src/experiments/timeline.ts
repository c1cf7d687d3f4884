// An iteration's exposures and new identities per variant key over time (the results page's
// chart): counted in SQL per time bucket (UTC), at most TIMELINE_MAX_BUCKETS buckets, every
// bucket of the iteration present (zeros included). Summed over the buckets they equal
// `Experiment.results` of the same iteration: exposures by `exposedAt`, identities by their
// first exposure in the iteration (earliest `exposedAt`, ties by lowest id) and its key.
import { ValidationError } from '../errors/app-errors.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { MAX_CLOCK_SKEW_MS } from '../exposures/normalise.js';
import type { AllocationEntry } from './normalise.js';

export const TIMELINE_MAX_BUCKETS = 400;

export const TIMELINE_BUCKETS = ['MINUTE', 'HOUR', 'DAY', 'WEEK'] as const;
export type TimelineBucket = (typeof TIMELINE_BUCKETS)[number];

const BUCKET_MS: Record<TimelineBucket, number> = { MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000, WEEK: 7 * 86_400_000 };
/** PostgreSQL's date_trunc unit of each bucket (its week starts on Monday, as bucketStart's). */
const SQL_UNIT: Record<TimelineBucket, string> = { MINUTE: 'minute', HOUR: 'hour', DAY: 'day', WEEK: 'week' };

export interface TimelineVariant {
  key: string;
  /** Per bucket, aligned with `starts`. */
  exposures: number[];
  /** Per bucket: identities whose first exposure in the iteration fell in it, by that exposure's key. */
  newIdentities: number[];
}

export interface ExperimentTimeline {
  iteration: number;
  bucket: TimelineBucket;
  /** The start of every bucket, oldest first. */
  starts: Date[];
  variants: TimelineVariant[];
}

/** The start (UTC) of the bucket holding `time`. */
export function bucketStart(time: number, bucket: TimelineBucket): number {
  if (bucket !== 'WEEK') return Math.floor(time / BUCKET_MS[bucket]) * BUCKET_MS[bucket];
  const day = Math.floor(time / BUCKET_MS.DAY) * BUCKET_MS.DAY;
  const weekday = new Date(day).getUTCDay(); // 0 = Sunday
  return day - ((weekday + 6) % 7) * BUCKET_MS.DAY;
}

/** How many buckets cover [from, to] (both inclusive). */
export function bucketCount(from: number, to: number, bucket: TimelineBucket): number {
  return Math.round((bucketStart(to, bucket) - bucketStart(from, bucket)) / BUCKET_MS[bucket]) + 1;
}

/**
 * The bucket asked for, or without one the finest that covers [from, to] in at most `max`
 * buckets. A bucket asked for that would need more is INVALID_INPUT.
 */
export function chooseBucket(from: number, to: number, asked: TimelineBucket | null, max = TIMELINE_MAX_BUCKETS): TimelineBucket {
  if (asked !== null) {
    const count = bucketCount(from, to, asked);
    if (count > max) {
      throw new ValidationError(
        'INVALID_INPUT',
        `This iteration spans ${count} ${asked} buckets; a timeline has at most ${max}: ask for a coarser bucket (or none).`,
        ['bucket'],
      );
    }
    return asked;
  }
  const fitting = TIMELINE_BUCKETS.find((bucket) => bucketCount(from, to, bucket) <= max);
  if (!fitting) throw new ValidationError('INVALID_INPUT', `This iteration spans more than ${max} weeks.`, ['bucket']);
  return fitting;
}

interface Row {
  bucket: bigint;
  key: string;
  exposures: bigint;
  identities: bigint;
}

/** The timeline of one iteration (the latest when none is given); null when it does not exist. */
export async function experimentTimeline(
  prisma: PrismaClient,
  experimentId: number,
  iterationNumber: number | null,
  asked: TimelineBucket | null,
  now = new Date(),
): Promise<ExperimentTimeline | null> {
  const iteration = await prisma.experimentIteration.findFirst({
    where: { experimentId, ...(iterationNumber === null ? {} : { number: iterationNumber }) },
    orderBy: { number: 'desc' },
  });
  if (!iteration) return null;
  const from = iteration.startedAt.getTime();
  // A running iteration takes reports up to the accepted clock skew ahead; a stopped one ends before stoppedAt.
  const to = iteration.stoppedAt ? Math.max(from, iteration.stoppedAt.getTime() - 1) : Math.max(from, now.getTime() + MAX_CLOCK_SKEW_MS);
  const bucket = chooseBucket(from, to, asked);
  const rows = await prisma.$queryRaw<Row[]>`
    WITH stamped AS (
      SELECT "id", "identityId", "variantKey", "exposedAt" FROM "Exposure"
      WHERE "experimentId" = ${experimentId} AND "iteration" = ${iteration.number}
    ),
    firsts AS (
      SELECT DISTINCT ON ("identityId") "variantKey", "exposedAt" FROM stamped ORDER BY "identityId", "exposedAt", "id"
    ),
    counted AS (
      SELECT date_trunc(${SQL_UNIT[bucket]}, "exposedAt" AT TIME ZONE 'UTC') AS "bucket", "variantKey" AS "key",
             count(*) AS "exposures", 0::bigint AS "identities"
      FROM stamped GROUP BY 1, 2
      UNION ALL
      SELECT date_trunc(${SQL_UNIT[bucket]}, "exposedAt" AT TIME ZONE 'UTC'), "variantKey", 0::bigint, count(*)
      FROM firsts GROUP BY 1, 2
    )
    SELECT (extract(epoch FROM "bucket") * 1000)::bigint AS "bucket", "key",
           sum("exposures")::bigint AS "exposures", sum("identities")::bigint AS "identities"
    FROM counted GROUP BY 1, 2 ORDER BY 1, 2`;

  // Every bucket from the iteration's start to its end, or to now while it runs (stamping keeps
  // every exposure inside; the rows' own buckets are taken in should one lie beyond).
  const size = BUCKET_MS[bucket];
  const rowBuckets = rows.map((row) => Number(row.bucket));
  const first = Math.min(bucketStart(from, bucket), ...rowBuckets);
  const last = Math.max(bucketStart(iteration.stoppedAt ? to : Math.max(from, now.getTime()), bucket), ...rowBuckets);
  const starts: Date[] = [];
  for (let start = first; start <= last; start += size) starts.push(new Date(start));

  const allocation = iteration.allocation as unknown as AllocationEntry[];
  const keys = allocation.map((entry) => entry.key);
  // Keys exposed but not in the allocation (a client reporting a stale variant) still count, as in results.
  for (const key of [...new Set(rows.map((row) => row.key))].sort()) if (!keys.includes(key)) keys.push(key);
  const variants = keys.map((key) => ({ key, exposures: starts.map(() => 0), newIdentities: starts.map(() => 0) }));
  const byKey = new Map(variants.map((variant) => [variant.key, variant]));
  for (const row of rows) {
    const index = Math.round((Number(row.bucket) - first) / size);
    const variant = byKey.get(row.key)!;
    variant.exposures[index] += Number(row.exposures);
    variant.newIdentities[index] += Number(row.identities);
  }
  return { iteration: iteration.number, bucket, starts, variants };
}
