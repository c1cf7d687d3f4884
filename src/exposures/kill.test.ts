// A server process killed with SIGKILL while it writes a batch leaves all of the batch or none
// of it: exposures, identities and Assignment rows together.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { type Database, openDatabase } from '../db/database.js';
import { databaseKinds, migratedDatabase, type TestDatabase } from '../../test/helpers/databases.js';
import { eventually } from '../../test/helpers/eventually.js';
import { type SpawnedServer, spawnServer } from '../../test/helpers/processes.js';

const BATCH = 500;

/**
 * Makes the write of the test's batch stop inside its statement, after its identities and
 * exposures went in and before it commits: the Assignment row of identity `slow` sleeps.
 */
async function installSlowAssignment(db: Database): Promise<void> {
  await db.prisma.$executeRawUnsafe(`
    CREATE FUNCTION kill_test_slow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (SELECT "identifier" FROM "Identity" WHERE "id" = NEW."identityId") = 'slow' THEN PERFORM pg_sleep(30); END IF;
      RETURN NEW;
    END $$`);
  await db.prisma.$executeRawUnsafe(
    `CREATE TRIGGER kill_test_slow AFTER INSERT OR UPDATE ON "Assignment" FOR EACH ROW EXECUTE FUNCTION kill_test_slow()`,
  );
}

/** Rows of the environment the batch went to (the demo's experiment writes its own elsewhere). */
async function counts(db: Database, environmentKey: string) {
  const [row] = await db.prisma.$queryRaw<{ exposures: number; identities: number; assignments: number; exposureCount: number }[]>`
    WITH e AS (SELECT "id" FROM "Environment" WHERE "key" = ${environmentKey})
    SELECT (SELECT count(*)::int FROM "Exposure" WHERE "environmentId" = (SELECT "id" FROM e)) AS exposures,
           (SELECT count(*)::int FROM "Identity" WHERE "environmentId" = (SELECT "id" FROM e)) AS identities,
           (SELECT count(*)::int FROM "Assignment" WHERE "environmentId" = (SELECT "id" FROM e)) AS assignments,
           (SELECT coalesce(sum("exposureCount"), 0)::int FROM "Assignment" WHERE "environmentId" = (SELECT "id" FROM e)) AS "exposureCount"`;
  return row;
}

/** Starts `src/server.ts` as its own node process; resolves with its URL and the demo's production key. */
async function startServer(env: Record<string, string>): Promise<{ server: SpawnedServer; url: string; key: string }> {
  const server = await spawnServer({ HOST: '127.0.0.1', ADMIN_TOKEN: 'kill-test-admin', ...env }, { timeoutMs: 45_000 });
  const key = /Demo production key:\s+X-Environment-Key: (env_\w+)/.exec(server.output())![1];
  return { server, url: server.url.replace('localhost', '127.0.0.1'), key };
}

/** Whether the server answers /health within timeoutMs (PGlite blocks the process while it runs SQL). */
async function responsive(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok;
  } catch {
    return false;
  }
}

async function killAndWait(server: SpawnedServer): Promise<void> {
  const exited = server.exited();
  server.child.kill('SIGKILL');
  await exited;
}

function sendBatch(url: string, key: string): void {
  const exposures = Array.from({ length: BATCH }, (_, i) => ({
    feature: 'checkout_button',
    identifier: i === BATCH - 1 ? 'slow' : `killed-${i % 50}`,
    variantKey: i % 2 ? 'variant_a' : 'control',
    eventId: `killed-${i}`,
  }));
  fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-environment-key': key },
    body: JSON.stringify({
      query: 'mutation($input: RecordExposuresInput!) { recordExposures(input: $input) { __typename } }',
      variables: { input: { exposures } },
    }),
  }).catch(() => {});
}

describe.each(databaseKinds)('a server killed with SIGKILL in the middle of a batch, on %s', (kind) => {
  let spawned: SpawnedServer | undefined;
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    // Before its database goes: a server that outlived a failed test holds it.
    if (spawned) await killAndWait(spawned);
    await database?.dispose();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('leaves all of the batch or none of it', { timeout: 120_000 }, async () => {
    let reopen: () => Promise<Database>;
    let key = '';
    if (kind === 'postgres') {
      database = await migratedDatabase('postgres', 2);
      await installSlowAssignment(database.db);
      // The backend notices its client is gone while the statement runs (else it would run on
      // and commit, as the whole protocol exchange was sent): both are allowed outcomes.
      const url = new URL(database.url!);
      url.searchParams.set('options', '-c client_connection_check_interval=100');
      const server = await startServer({ DATABASE_URL: url.toString() });
      spawned = server.server;
      key = server.key;
      sendBatch(server.url, key);
      const sleeping = () =>
        database!.db.prisma.$queryRaw<{ n: number }[]>`
          SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'`;
      await eventually(async () => (await sleeping())[0].n === 1, { timeoutMs: 30_000, intervalMs: 100, what: 'the batch to be mid-statement' });
      await killAndWait(server.server);
      await eventually(async () => (await sleeping())[0].n === 0, { timeoutMs: 30_000, intervalMs: 100, what: "the killed server's backend to end" });
      reopen = async () => database!.db;
    } else {
      dataDir = mkdtempSync(join(tmpdir(), 'flagledger-kill-'));
      const dump = new Blob([readFileSync(inject('pgliteDumpPath'))]);
      const setup = await openDatabase({ pglite: new PGlite(dataDir, { loadDataDir: dump }) });
      await installSlowAssignment(setup);
      await setup.close();
      const server = await startServer({ DATA_DIR: dataDir });
      spawned = server.server;
      key = server.key;
      sendBatch(server.url, key);
      // PGlite runs SQL on the server's only thread: it stops answering while the statement
      // sleeps. Nothing else in the request blocks it for seconds on end.
      let silent = 0;
      await eventually(async () => ((await responsive(server.url, 750)) ? (silent = 0) : ++silent) >= 4, {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: 'the batch to be mid-statement',
      });
      await killAndWait(server.server);
      reopen = () => openDatabase({ dataDir });
    }
    spawned = undefined;

    const db = await reopen();
    try {
      const after = await counts(db, key);
      // The demo seed has no exposures in production: all means every row of the batch, with its identities
      // (50 + `slow`) and their Assignment rows; none means no row at all.
      const all = { exposures: BATCH, identities: 51, assignments: 51, exposureCount: BATCH };
      const none = { exposures: 0, identities: 0, assignments: 0, exposureCount: 0 };
      expect([all, none]).toContainEqual(after);
    } finally {
      if (kind === 'pglite') await db.close();
    }
  });
});
