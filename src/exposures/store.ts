// The set-based write of exposures: ONE SQL statement, so one round trip and one implicit
// transaction, whatever the number of rows. It
//   1. finds the rows' identities, and creates the missing ones (one INSERT ... ON CONFLICT
//      DO UPDATE, which also returns an identity created concurrently, unlike DO NOTHING);
//      `lastSeenAt` of known identities is refreshed at most once a minute, skipping rows
//      another writer holds (it is "about a minute" fresh, as for `flags`);
//   2. inserts the exposures (one INSERT ... SELECT FROM unnest(...) ... ON CONFLICT
//      ("environmentId", "eventId") DO NOTHING): the unique index makes a repeated eventId a
//      no-op, also when repeats race (the second waits for the first, then skips);
//   3. folds the rows actually inserted into Assignment (one INSERT ... ON CONFLICT DO UPDATE
//      merging them with the stored row), and those stamped with an experiment iteration into
//      ExperimentAssignment, the same way where they change the stored row (usually they don't).
// A statement is atomic: a failure anywhere (or a killed process) leaves none of it.
//
// Concurrency: ON CONFLICT DO UPDATE locks the conflicting row and, under READ COMMITTED,
// merges with its latest committed version, so concurrent batches for one identity each add
// their own exposures. Every step writes its rows in a fixed order (identifier; eventId;
// iteration, identity; feature, identity) and the steps run one after the other, so two
// statements lock shared rows in the same order and cannot deadlock; a deadlock or
// serialization failure reported anyway is retried.
//
// ExposureWriter merges the writes of concurrent requests into one statement while earlier
// statements are in flight: a commit (a WAL flush) per request is what limits single-exposure
// reports, and this makes it one per group of them. Each request is still atomic on its own.
import { createHash } from 'node:crypto';
import { sqlState } from '../db/sql-state.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { IDENTITY_TOUCH_INTERVAL_MS } from '../identities/last-seen.js';
import type { Exposure, ExposureSource } from '../generated/prisma/client.js';

export interface ExposureRow {
  environmentId: number;
  featureId: number;
  optionId: number | null;
  variantKey: string;
  identifier: string;
  exposedAt: Date;
  receivedAt: Date;
  eventId: string | null;
  source: ExposureSource;
  matchesAssignment: boolean;
}

export interface WrittenExposure {
  /** The new row; undefined when its eventId was already recorded (see `duplicateOf`). */
  exposure?: Exposure;
  /** The eventId whose earlier exposure this row repeats (in the row's environment). */
  duplicateOf?: string;
}

interface ResultRow {
  item: number;
  id: bigint | string;
  inserted: boolean;
  identityId: number;
  experimentId: number | null;
  iteration: number | null;
}

const RETRYABLE_SQL_STATES = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 4;

/** A statement straight through `pg` (PostgreSQL): prepared per connection when it has a name. */
export type DirectQuery = <Row>(query: { name?: string; text: string; values: unknown[] }) => Promise<Row[]>;

/**
 * Statements of at most this many rows are sent as a named prepared statement: PostgreSQL then
 * parses the statement once per connection and, after a few executions, reuses a generic plan
 * instead of planning every one (a large share of a single report's database time). Larger ones
 * are planned each time, for their real row counts. Measured (BENCHMARKS.md): the generic plan
 * costs less up to 128 rows (planning is 1-4 ms of CPU), more at 1000; merged single reports
 * reach 50 rows and more under load.
 */
const PREPARED_MAX_ROWS = 128;

/**
 * The rows as a relation (item, "environmentId", ... "matchesAssignment"), one array parameter
 * per column ($10-$19, see exposureText): the text never changes, only the values. Sources go
 * as text[]: PGlite does not know the array type of an enum created after it opened (a fresh
 * database migrated by this process) and would send the array as plain text.
 */
const UNNEST_ROWS = `
    SELECT (u.n - 1)::int AS item, u."environmentId", u."featureId", u."optionId", u."variantKey", u.identifier,
           u."exposedAt", u."receivedAt", u."eventId", u.source::"ExposureSource" AS source, u."matchesAssignment"
    FROM unnest($10::int[], $11::int[], $12::int[], $13::text[], $14::text[], $15::timestamptz[], $16::timestamptz[], $17::text[],
                $18::text[], $19::bool[])
      WITH ORDINALITY AS u("environmentId", "featureId", "optionId", "variantKey", identifier, "exposedAt", "receivedAt", "eventId",
                           source, "matchesAssignment", n)`;

/** The values of UNNEST_ROWS ($10-$19). Times go as ISO text: cheaper for `pg` than a Date. */
function unnestValues(rows: ExposureRow[]): unknown[] {
  const n = rows.length;
  const environmentIds = new Array<number>(n);
  const featureIds = new Array<number>(n);
  const optionIds = new Array<number | null>(n);
  const variantKeys = new Array<string>(n);
  const identifiers = new Array<string>(n);
  const exposedAts = new Array<string>(n);
  const receivedAts = new Array<string>(n);
  const eventIds = new Array<string | null>(n);
  const sources = new Array<string>(n);
  const matches = new Array<boolean>(n);
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    environmentIds[i] = row.environmentId;
    featureIds[i] = row.featureId;
    optionIds[i] = row.optionId;
    variantKeys[i] = row.variantKey;
    identifiers[i] = row.identifier;
    exposedAts[i] = row.exposedAt.toISOString();
    receivedAts[i] = row.receivedAt.toISOString();
    eventIds[i] = row.eventId;
    sources[i] = row.source;
    matches[i] = row.matchesAssignment;
  }
  return [environmentIds, featureIds, optionIds, variantKeys, identifiers, exposedAts, receivedAts, eventIds, sources, matches];
}

/** The statement that writes exposures, for `pg` and Prisma alike: one text, built once. */
const EXPOSURE_SQL = exposureText(UNNEST_ROWS);
/** Its name as a prepared statement; from the text, so that a changed statement is prepared anew. */
const EXPOSURE_STATEMENT_NAME = `flagledger_exposures_${createHash('sha256').update(EXPOSURE_SQL).digest('hex').slice(0, 16)}`;

/** The statement for the rows as `pg` takes it; named (prepared) when small. */
export function exposureQuery(rows: ExposureRow[]): { name?: string; text: string; values: unknown[] } {
  const values = [...exposureParameters(rows), ...unnestValues(rows)];
  return rows.length > PREPARED_MAX_ROWS ? { text: EXPOSURE_SQL, values } : { name: EXPOSURE_STATEMENT_NAME, text: EXPOSURE_SQL, values };
}

/**
 * Writes the rows (answered in their order) in one statement, now: through `direct` when given
 * (PostgreSQL), else through Prisma (PGlite, tests).
 */
export async function writeExposures(prisma: PrismaClient, rows: ExposureRow[], direct?: DirectQuery): Promise<WrittenExposure[]> {
  if (rows.length === 0) return [];
  const query = exposureQuery(rows);
  const send = direct ? () => direct<ResultRow>(query) : () => prisma.$queryRawUnsafe<ResultRow[]>(query.text, ...query.values);
  let result: ResultRow[];
  for (let attempt = 1; ; attempt++) {
    try {
      result = await send();
      break;
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS || !RETRYABLE_SQL_STATES.has(sqlState(error) ?? '')) throw error;
    }
  }

  const written: WrittenExposure[] = new Array(rows.length);
  for (const { item, id, inserted, identityId, experimentId, iteration } of result) {
    const row = rows[item];
    written[item] = inserted
      ? {
          exposure: {
            // `pg` gives bigint columns as strings.
            id: BigInt(id),
            environmentId: row.environmentId,
            featureId: row.featureId,
            optionId: row.optionId,
            variantKey: row.variantKey,
            identityId,
            exposedAt: row.exposedAt,
            receivedAt: row.receivedAt,
            eventId: row.eventId,
            source: row.source,
            matchesAssignment: row.matchesAssignment,
            experimentId,
            iteration,
            createdAt: row.receivedAt,
            updatedAt: row.receivedAt,
          },
        }
      : { duplicateOf: row.eventId! };
  }
  return written;
}

interface Pending {
  rows: ExposureRow[];
  resolve: (written: WrittenExposure[]) => void;
  reject: (error: unknown) => void;
}

/**
 * A statement is sent beside others in flight only when it carries at least this many rows;
 * smaller ones wait for the statement in flight and go out merged. A statement costs about the
 * same whatever its size up to this (a commit, the plan's start, a round trip, `pg`'s work on
 * both sides), so under a load of single reports one statement in flight at a time, carrying
 * all that arrived meanwhile, costs the database and this process the least per report; batches
 * still run side by side.
 */
const OVERLAP_MIN_ROWS = 64;

/**
 * Writes exposures with at most `maxInFlight` statements at a time, a second one only once
 * OVERLAP_MIN_ROWS rows are waiting; what arrives meanwhile waits and goes out merged into the
 * next statement. An idle writer sends at once (no added latency). A merged statement that
 * fails is retried request by request, so that one request's failure is its own.
 */
export class ExposureWriter {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private inFlight = 0;
  /** Statements sent (tests, benchmarks). */
  statements = 0;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly maxInFlight: number,
    private readonly maxRowsPerStatement = 2000,
    /** PostgreSQL: statements go straight through `pg` (see exposureQuery). */
    private readonly direct?: DirectQuery,
  ) {}

  write(rows: ExposureRow[]): Promise<WrittenExposure[]> {
    if (rows.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ rows, resolve, reject });
      this.queuedRows += rows.length;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0 && (this.inFlight === 0 || this.queuedRows >= OVERLAP_MIN_ROWS)) {
      let size = 0;
      let take = 0;
      while (take < this.queue.length && (take === 0 || size + this.queue[take].rows.length <= this.maxRowsPerStatement)) {
        size += this.queue[take].rows.length;
        take++;
      }
      const group = this.queue.splice(0, take);
      this.queuedRows -= size;
      this.inFlight++;
      void this.flush(group).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async flush(group: Pending[]): Promise<void> {
    try {
      this.statements++;
      const written = await writeExposures(this.prisma, group.flatMap((pending) => pending.rows), this.direct);
      let offset = 0;
      for (const pending of group) {
        pending.resolve(written.slice(offset, offset + pending.rows.length));
        offset += pending.rows.length;
      }
    } catch (error) {
      if (group.length === 1) return group[0].reject(error);
      for (const pending of group) {
        this.statements++;
        await writeExposures(this.prisma, pending.rows, this.direct).then(pending.resolve, pending.reject);
      }
    }
  }
}

/** The exposures already recorded under these eventIds (the originals of duplicates). */
export async function exposuresByEventId(prisma: PrismaClient, environmentId: number, eventIds: string[]): Promise<Map<string, Exposure>> {
  if (eventIds.length === 0) return new Map();
  const originals = await prisma.exposure.findMany({ where: { environmentId, eventId: { in: eventIds } } });
  return new Map(originals.map((exposure) => [exposure.eventId!, exposure]));
}

/**
 * The statement's own parameters ($1-$9 of exposureText): the time, the time before which a
 * known identity's lastSeenAt is refreshed, the rows' distinct identities as arrays of their
 * own (the planner then knows how many there are: it would guess 200 for a GROUP BY of the
 * input, and picks index lookups accordingly), and the rows' features and exposedAt range (the
 * experiment iterations that can stamp them are read once).
 */
export function exposureParameters(rows: ExposureRow[]): unknown[] {
  const now = new Date();
  const stale = new Date(now.getTime() - IDENTITY_TOUCH_INTERVAL_MS);
  const seen = new Map<string, { environmentId: number; identifier: string; seenAt: Date }>();
  for (const row of rows) {
    const key = `${row.environmentId}:${row.identifier}`;
    const entry = seen.get(key);
    if (!entry) seen.set(key, { environmentId: row.environmentId, identifier: row.identifier, seenAt: row.receivedAt });
    else if (row.receivedAt > entry.seenAt) entry.seenAt = row.receivedAt;
  }
  const wanted = [...seen.values()];
  const featureOf = new Map<string, { environmentId: number; featureId: number }>();
  let earliest = rows[0].exposedAt;
  let latest = rows[0].exposedAt;
  for (const row of rows) {
    featureOf.set(`${row.environmentId}:${row.featureId}`, { environmentId: row.environmentId, featureId: row.featureId });
    if (row.exposedAt < earliest) earliest = row.exposedAt;
    if (row.exposedAt > latest) latest = row.exposedAt;
  }
  const features = [...featureOf.values()];
  return [
    now.toISOString(),
    stale.toISOString(),
    wanted.map((w) => w.environmentId),
    wanted.map((w) => w.identifier),
    wanted.map((w) => w.seenAt.toISOString()),
    features.map((f) => f.environmentId),
    features.map((f) => f.featureId),
    latest.toISOString(),
    earliest.toISOString(),
  ];
}

/** The first parameter of the rows' relation: exposureParameters gives $1-$9. */
export const FIRST_ROW_PARAMETER = 10;

/**
 * The statement that writes the rows. `relation` gives them as a relation with the columns of
 * UNNEST_ROWS from parameter FIRST_ROW_PARAMETER on; bench/exposures-raw.ts measures other
 * shapes of it through this parameter, so that it measures this very statement.
 */
export function exposureText(relation: string): string {
  return `
    WITH input AS MATERIALIZED (
      -- Exposure ids are taken here, in item order, inside the statement that inserts them.
      SELECT nextval('"Exposure_id_seq"') AS id, t.* FROM (${relation}) AS t
    ),
    wanted AS (
      SELECT * FROM unnest($3::int[], $4::text[], $5::timestamptz[]) AS w("environmentId", identifier, "seenAt")
    ),
    known AS MATERIALIZED (
      -- Identities are never deleted on their own: one visible now stays valid.
      SELECT n.id, n."environmentId", n.identifier, n."lastSeenAt" FROM "Identity" n JOIN wanted w USING ("environmentId", identifier)
    ),
    created AS (
      INSERT INTO "Identity" AS n ("environmentId", "identifier", "lastSeenAt", "updatedAt")
      SELECT w."environmentId", w.identifier, w."seenAt", w."seenAt" FROM wanted w
      WHERE NOT EXISTS (SELECT FROM known k WHERE k."environmentId" = w."environmentId" AND k.identifier = w.identifier)
      ORDER BY 1, 2
      ON CONFLICT ("environmentId", "identifier") DO UPDATE SET "lastSeenAt" = GREATEST(n."lastSeenAt", EXCLUDED."lastSeenAt")
      RETURNING n.id, n."environmentId", n.identifier
    ),
    touched AS (
      -- Never waits: an identity locked by another writer is being seen by it anyway.
      UPDATE "Identity" n SET "lastSeenAt" = $1::timestamptz
      WHERE n.id IN (
        SELECT s.id FROM "Identity" s
        WHERE s.id = ANY (ARRAY(SELECT id FROM known WHERE "lastSeenAt" < $2::timestamptz))
        FOR NO KEY UPDATE SKIP LOCKED)
    ),
    identity AS (SELECT id, "environmentId", identifier FROM known UNION ALL SELECT * FROM created),
    iterations AS MATERIALIZED (
      -- The iterations of the rows' features that overlap the rows' exposedAt range: read once.
      SELECT xe."environmentId", xe."featureId", xi."experimentId", xi.number AS iteration, xi."startedAt", xi."stoppedAt"
      FROM "Experiment" xe JOIN "ExperimentIteration" xi ON xi."experimentId" = xe.id
      WHERE (xe."environmentId", xe."featureId") IN (SELECT * FROM unnest($6::int[], $7::int[]))
        AND xi."startedAt" <= $8::timestamptz AND (xi."stoppedAt" IS NULL OR xi."stoppedAt" > $9::timestamptz)
    ),
    inserted AS (
      INSERT INTO "Exposure" AS e ("id", "environmentId", "featureId", "optionId", "variantKey", "identityId", "exposedAt",
                                   "receivedAt", "eventId", "source", "matchesAssignment", "experimentId", "iteration",
                                   "createdAt", "updatedAt")
      SELECT i.id, i."environmentId", i."featureId", i."optionId", i."variantKey", n.id, i."exposedAt",
             i."receivedAt", i."eventId", i.source, i."matchesAssignment", x."experimentId", x.iteration,
             i."receivedAt", i."receivedAt"
      FROM input i JOIN identity n ON n."environmentId" = i."environmentId" AND n.identifier = i.identifier
      -- The iteration of the feature's experiment in the environment running at exposedAt, if
      -- any: among the statement's few candidate iterations (iterations), not an index lookup per row.
      LEFT JOIN LATERAL (
        SELECT r."experimentId", r.iteration FROM iterations r
        WHERE r."environmentId" = i."environmentId" AND r."featureId" = i."featureId"
          AND r."startedAt" <= i."exposedAt" AND (r."stoppedAt" IS NULL OR i."exposedAt" < r."stoppedAt")
        ORDER BY r."startedAt" DESC LIMIT 1
      ) x ON true
      ORDER BY i."environmentId", i."eventId", i.id
      ON CONFLICT ("environmentId", "eventId") DO NOTHING
      RETURNING e."id", e."environmentId", e."featureId", e."identityId", e."variantKey", e."exposedAt", e."experimentId", e."iteration"
    ),
    merged AS (
      -- Within the statement, ties on exposedAt go to the earlier item.
      SELECT "environmentId", "featureId", "identityId",
             (array_agg("variantKey" ORDER BY "exposedAt", id))[1] AS "firstVariantKey",
             min("exposedAt") AS "firstExposedAt", max("exposedAt") AS "lastExposedAt", count(*)::int AS "exposureCount",
             array_agg(DISTINCT "variantKey" COLLATE "C" ORDER BY "variantKey" COLLATE "C") AS "variantKeys"
      FROM inserted GROUP BY "environmentId", "featureId", "identityId"
    ),
    assignment AS (
      -- Against the stored row, ties on exposedAt keep what was recorded first.
      INSERT INTO "Assignment" AS a ("environmentId", "featureId", "identityId", "firstVariantKey", "firstExposedAt",
                                     "lastExposedAt", "exposureCount", "variantKeys", "createdAt", "updatedAt")
      SELECT m."environmentId", m."featureId", m."identityId", m."firstVariantKey", m."firstExposedAt", m."lastExposedAt",
             m."exposureCount", m."variantKeys", $1::timestamptz, $1::timestamptz
      FROM merged m ORDER BY m."environmentId", m."featureId", m."identityId"
      ON CONFLICT ("environmentId", "featureId", "identityId") DO UPDATE SET
        "firstVariantKey" = CASE WHEN EXCLUDED."firstExposedAt" < a."firstExposedAt" THEN EXCLUDED."firstVariantKey" ELSE a."firstVariantKey" END,
        "firstExposedAt" = LEAST(a."firstExposedAt", EXCLUDED."firstExposedAt"),
        "lastExposedAt" = GREATEST(a."lastExposedAt", EXCLUDED."lastExposedAt"),
        "exposureCount" = a."exposureCount" + EXCLUDED."exposureCount",
        "variantKeys" = ARRAY(SELECT DISTINCT k COLLATE "C" FROM unnest(a."variantKeys" || EXCLUDED."variantKeys") AS u(k) ORDER BY 1),
        "updatedAt" = EXCLUDED."updatedAt"
    ),
    iteration_rows AS (
      -- The stamped rows, each with whether its (iteration, identity) carries more than one key.
      SELECT "experimentId", "iteration", "identityId", "variantKey", "exposedAt", id,
             min("variantKey" COLLATE "C") OVER w <> max("variantKey" COLLATE "C") OVER w AS "conflicted"
      FROM inserted WHERE "experimentId" IS NOT NULL
      WINDOW w AS (PARTITION BY "experimentId", "iteration", "identityId")
    ),
    iteration_merged AS MATERIALIZED (
      -- Per (iteration, identity): the first stamped row by (exposedAt, id), and whether the rows
      -- carry more than one key (one sort, no sort per group). Computed by the main query (see its
      -- WHERE) before any ExperimentAssignment or Assignment row is locked: what runs while those
      -- are held (until commit) is what concurrent batches of the same identities queue behind.
      SELECT m.* FROM (
        SELECT DISTINCT ON ("experimentId", "iteration", "identityId") "experimentId", "iteration", "identityId",
               "variantKey" AS "firstVariantKey", "exposedAt" AS "firstExposedAt", id AS "firstExposureId", "conflicted"
        FROM iteration_rows ORDER BY "experimentId", "iteration", "identityId", "exposedAt", id
      ) m
      -- Rows the stored one already covers (an earlier first, and conflicted already or the same
      -- single key) would not change it: the usual exposure of a known identity. Stored rows only
      -- ever move one way (first earlier, conflicted set), so one seen here without a lock stays
      -- covering whatever commits meanwhile.
      WHERE NOT EXISTS (
        SELECT FROM "ExperimentAssignment" s
        WHERE s."experimentId" = m."experimentId" AND s."iteration" = m."iteration" AND s."identityId" = m."identityId"
          AND (s."firstExposedAt", s."firstExposureId") < (m."firstExposedAt", m."firstExposureId")
          AND (s."conflicted" OR (NOT m."conflicted" AND s."firstVariantKey" = m."firstVariantKey")))
    ),
    iteration_assignment AS (
      -- Assignment per iteration, exact with the stamped exposures: the first by (exposedAt, id)
      -- as a recount orders them, whichever statement commits first; a row that a concurrent
      -- statement made covering is left as it is. PostgreSQL runs the unreferenced
      -- data-modifying CTEs in reverse order, so these rows are locked (in key order) before any
      -- Assignment row (in key order): two ordered phases, no lock cycle.
      INSERT INTO "ExperimentAssignment" AS a ("experimentId", "iteration", "identityId", "firstVariantKey", "firstExposedAt",
                                               "firstExposureId", "conflicted", "createdAt", "updatedAt")
      SELECT m."experimentId", m."iteration", m."identityId", m."firstVariantKey", m."firstExposedAt", m."firstExposureId",
             m."conflicted", $1::timestamptz, $1::timestamptz
      FROM iteration_merged m ORDER BY m."experimentId", m."iteration", m."identityId"
      ON CONFLICT ("experimentId", "iteration", "identityId") DO UPDATE SET
        "firstVariantKey" = CASE WHEN (EXCLUDED."firstExposedAt", EXCLUDED."firstExposureId") < (a."firstExposedAt", a."firstExposureId")
                                 THEN EXCLUDED."firstVariantKey" ELSE a."firstVariantKey" END,
        "firstExposureId" = CASE WHEN (EXCLUDED."firstExposedAt", EXCLUDED."firstExposureId") < (a."firstExposedAt", a."firstExposureId")
                                 THEN EXCLUDED."firstExposureId" ELSE a."firstExposureId" END,
        "firstExposedAt" = LEAST(a."firstExposedAt", EXCLUDED."firstExposedAt"),
        -- Conflicted when either side is, or their (single) keys differ.
        "conflicted" = a."conflicted" OR EXCLUDED."conflicted" OR EXCLUDED."firstVariantKey" <> a."firstVariantKey",
        "updatedAt" = EXCLUDED."updatedAt"
      WHERE (EXCLUDED."firstExposedAt", EXCLUDED."firstExposureId") < (a."firstExposedAt", a."firstExposureId")
         OR NOT (a."conflicted" OR (NOT EXCLUDED."conflicted" AND EXCLUDED."firstVariantKey" = a."firstVariantKey"))
    )
    SELECT i.item, i.id, i.id IN (SELECT id FROM inserted) AS inserted, n.id AS "identityId",
           s."experimentId", s."iteration"
    FROM input i JOIN identity n ON n."environmentId" = i."environmentId" AND n.identifier = i.identifier
    LEFT JOIN inserted s ON s.id = i.id
    WHERE (SELECT count(*) FROM iteration_merged) >= 0`;
}
