// The settled horizon of the exposure log: an exposure id H such that every exposure with an
// id up to H that will ever be committed is committed already. Readers that page by id
// (the `exposures` connection, `GET /exports/exposures`) serve rows up to H only, so they
// never skip a row.
//
// Why this is needed: ids come from a sequence when a row is inserted, not when it commits.
// Writer A takes id 100, writer B takes 101 and commits first; a reader sees 101, moves its
// cursor past it, and A's 100 becomes visible afterwards, behind the cursor: lost for good.
//
// How H is found, on PostgreSQL, without any help from the writers:
//  1. read the sequence's last value S (pg_sequence_last_value: not transactional, so it
//     counts ids taken by transactions that are still open);
//  2. list the transactions that hold a write lock on "Exposure" right now. An INSERT takes
//     its RowExclusiveLock when the statement is parsed/planned, before it evaluates the id
//     default, and keeps it until its transaction ends: so every open transaction that took
//     an id <= S is in this list (it took the lock before its id, its id before step 1);
//  3. wait until every listed transaction has ended (committed or rolled back). Its virtual
//     transaction id lock disappears at that moment.
// Then every id <= S is committed or gone forever (a rollback's gap), and a later snapshot
// sees all of them: S is settled. Ids taken after step 1 are larger than S.
//
// Cost: two small queries when something was written since the last settled horizon (one
// when nothing was), plus a wait as long as the slowest exposure write in flight (writes are
// single batch transactions: milliseconds). Writers are never blocked. A writer that keeps a
// transaction open for long delays readers at the tail by up to MAX_WAIT_MS; after that they
// are served up to the last horizon known settled (never an unsafe one).
//
// PGlite has a single connection and runs a transaction exclusively (no other statement runs
// while one is open), so there is never an open writer: step 2 finds nothing, S is settled.
// Assumption: exposure ids are only taken by the column default while inserting into
// "Exposure" (nobody calls nextval on the sequence by hand).
import type { PrismaClient } from '../generated/prisma/client.js';

type Sql = Pick<PrismaClient, '$queryRaw'>;

const MAX_WAIT_MS = 10_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The settled horizon of one database, remembering the highest horizon known settled. */
export class ExposureHorizon {
  private known = 0n;

  constructor(private readonly prisma: Sql) {}

  /** The highest exposure id below which no row can still appear (see the file comment). */
  async settled(maxWaitMs = MAX_WAIT_MS): Promise<bigint> {
    const { prisma } = this;
    const known = this.known;
    const [{ last }] = await prisma.$queryRaw<{ last: bigint | null }[]>`
      SELECT pg_sequence_last_value(pg_get_serial_sequence('"Exposure"', 'id')::regclass) AS last`;
    const candidate = last === null ? 0n : BigInt(last);
    if (candidate <= known) return known;

    const writers = await prisma.$queryRaw<{ vxid: string }[]>`
      SELECT DISTINCT l.virtualtransaction AS vxid
      FROM pg_locks l
      WHERE l.locktype = 'relation'
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.relation = '"Exposure"'::regclass
        AND l.mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')
        AND l.granted
        AND l.pid IS DISTINCT FROM pg_backend_pid()`;

    let pending = writers.map((w) => w.vxid);
    const deadline = Date.now() + maxWaitMs;
    let pause = 2;
    while (pending.length > 0) {
      if (Date.now() >= deadline) return known;
      await sleep(pause);
      pause = Math.min(pause * 2, 50);
      const running = await prisma.$queryRaw<{ vxid: string }[]>`
        SELECT virtualxid AS vxid FROM pg_locks WHERE locktype = 'virtualxid' AND virtualxid = ANY(${pending}::text[])`;
      pending = running.map((r) => r.vxid);
    }
    // Another request may have settled a higher horizon meanwhile: keep the highest.
    if (candidate > this.known) this.known = candidate;
    return candidate;
  }
}
