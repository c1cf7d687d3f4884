// Databases for tests: PGlite always, PostgreSQL too when TEST_DATABASE_URL is set.
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { inject } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database.js';
import { createPostgresDatabase, dropPostgresDatabase, postgresUrl, scratchName } from './postgres.js';

export type TestDatabaseKind = 'pglite' | 'postgres';

/** The kinds every database suite runs on: `describe.each(databaseKinds)`. */
export const databaseKinds: TestDatabaseKind[] = postgresUrl ? ['pglite', 'postgres'] : ['pglite'];

export interface TestDatabase {
  kind: TestDatabaseKind;
  db: Database;
  /** PostgreSQL only: the scratch database's URL, for a second process or server. */
  url: string | undefined;
  /** Closes the handle and drops the scratch database. */
  dispose(): Promise<void>;
}

let dump: Blob | undefined;

/** A migrated database of the given kind (a copy of the run's migrated template). */
export async function migratedDatabase(kind: TestDatabaseKind, poolSize = 10): Promise<TestDatabase> {
  if (kind === 'pglite') {
    dump ??= new Blob([readFileSync(inject('pgliteDumpPath'))]);
    const pglite = new PGlite({ loadDataDir: dump });
    const db = await openDatabase({ pglite });
    return { kind, db, url: undefined, dispose: () => db.close() };
  }
  return scratchPostgres('flagledger_test', inject('postgresTemplate'), poolSize);
}

async function scratchPostgres(prefix: string, template: string | undefined, poolSize: number): Promise<TestDatabase> {
  const name = scratchName(prefix);
  const url = await createPostgresDatabase(name, template);
  const db = await openDatabase({ databaseUrl: url, poolSize });
  return {
    kind: 'postgres',
    db,
    url,
    async dispose() {
      await db.close();
      await dropPostgresDatabase(name);
    },
  };
}

/** An empty database (no migrations applied), for the migrator's own tests. */
export async function emptyDatabase(kind: TestDatabaseKind): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const db = await openDatabase({ pglite: new PGlite() });
    return { kind, db, url: undefined, dispose: () => db.close() };
  }
  return scratchPostgres('flagledger_empty', undefined, 4);
}

/** A second handle on the same PostgreSQL database (another "process"'s pool). */
export async function secondHandle(database: TestDatabase): Promise<Database> {
  if (!database.url) throw new Error('a second handle needs PostgreSQL');
  return openDatabase({ databaseUrl: database.url, poolSize: 4 });
}
