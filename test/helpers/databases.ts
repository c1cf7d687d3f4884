// Databases for tests: PGlite always, PostgreSQL too when TEST_DATABASE_URL is set.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { inject } from 'vitest';
import { type Database, openDatabase, type SqlSession } from '../../src/db/database.js';
import { defaultMigrationsDir, migrate, readMigrations } from '../../src/db/migrator.js';
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

/**
 * An empty database migrated up to, not including, `migration`: for a test of that migration
 * against rows the earlier schema allowed. `pending` is what `migrate` applies next.
 */
export async function databaseBefore(kind: TestDatabaseKind, migration: string): Promise<TestDatabase & { pending: string[] }> {
  const database = await emptyDatabase(kind);
  const names = readMigrations().map((m) => m.name);
  const at = names.indexOf(migration);
  if (at === -1) throw new Error(`no migration ${migration}`);
  const earlier = mkdtempSync(join(tmpdir(), 'flagledger-migrations-'));
  try {
    for (const name of names.slice(0, at)) cpSync(join(defaultMigrationsDir, name), join(earlier, name), { recursive: true });
    await migrate(database.db, { migrationsDir: earlier });
  } finally {
    rmSync(earlier, { recursive: true, force: true });
  }
  return { ...database, pending: names.slice(at) };
}

/** A project with one environment and one feature, as plain rows: their ids. */
export async function insertBaseRows(s: SqlSession): Promise<{ project: number; environment: number; feature: number; insertId: (sql: string, params?: unknown[]) => Promise<number> }> {
  const insertId = async (sql: string, params: unknown[] = []) => Number((await s.query<{ id: number | string }>(sql, params))[0]?.id);
  const project = await insertId(`INSERT INTO "Project" (name, "updatedAt") VALUES ('p', now()) RETURNING id`);
  const environment = await insertId(`INSERT INTO "Environment" ("projectId", name, key, "updatedAt") VALUES ($1, 'e', 'env_x', now()) RETURNING id`, [project]);
  const feature = await insertId(`INSERT INTO "Feature" ("projectId", name, "initialValue", "updatedAt") VALUES ($1, 'f', '1', now()) RETURNING id`, [project]);
  return { project, environment, feature, insertId };
}

/** A second handle on the same PostgreSQL database (another "process"'s pool). */
export async function secondHandle(database: TestDatabase): Promise<Database> {
  if (!database.url) throw new Error('a second handle needs PostgreSQL');
  return openDatabase({ databaseUrl: database.url, poolSize: 4 });
}
