// Applies prisma/migrations/*/migration.sql and keeps Prisma Migrate's own bookkeeping
// table, `_prisma_migrations`, exactly as `prisma migrate deploy` does (same checksums,
// same columns), so Prisma's tools agree with it wherever its schema engine is available.
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database, SqlSession } from './database.js';
import { splitSqlStatements } from './sql-statements.js';

export const defaultMigrationsDir = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

/** The advisory lock key Prisma Migrate itself takes, so the two exclude each other. */
const MIGRATION_LOCK_KEY = 72707369;

export interface MigrationFile {
  name: string;
  script: string;
  checksum: string;
}

export interface AppliedMigration {
  id: string;
  checksum: string;
  migration_name: string;
  started_at: Date;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
  applied_steps_count: number;
}

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly migration?: string,
    readonly statement?: string,
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

export interface MigrateOptions {
  migrationsDir?: string;
  log?: (message: string) => void;
}

export interface MigrateResult {
  applied: string[];
}

export function checksumOf(script: string | Buffer): string {
  return createHash('sha256').update(script).digest('hex');
}

export function readMigrations(migrationsDir = defaultMigrationsDir): MigrationFile[] {
  return readdirSync(migrationsDir)
    .filter((name) => statSync(join(migrationsDir, name)).isDirectory())
    .sort()
    .map((name) => {
      const bytes = readFileSync(join(migrationsDir, name, 'migration.sql'));
      return { name, script: bytes.toString('utf8'), checksum: checksumOf(bytes) };
    });
}

const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** Prisma accepts a file whose only change is its line endings; so do we. */
function sameChecksum(file: MigrationFile, stored: string): boolean {
  return file.checksum === stored || checksumOf(file.script.replace(/\r\n/g, '\n')) === stored ||
    checksumOf(file.script.replace(/\r?\n/g, '\r\n')) === stored;
}

async function appliedMigrations(session: SqlSession): Promise<AppliedMigration[]> {
  const exists = await session.query<{ present: boolean }>(
    `SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS present`,
  );
  if (!exists[0]?.present) return [];
  return session.query<AppliedMigration>(
    `SELECT * FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
  );
}

/** Refuses to go on when history and files disagree; returns the migrations still to apply. */
function plan(files: MigrationFile[], history: AppliedMigration[]): MigrationFile[] {
  const live = history.filter((row) => row.rolled_back_at === null);
  const failed = live.find((row) => row.finished_at === null);
  if (failed) {
    throw new MigrationError(
      `Migration ${failed.migration_name} failed on ${failed.started_at.toISOString()} and was rolled back ` +
        `(each migration runs in one transaction). Its error was:\n${failed.logs ?? '(no log)'}\n` +
        `Fix the migration, then mark the failed attempt resolved with ` +
        `\`npm run db:migrate -- --rolled-back ${failed.migration_name}\` and run it again.`,
      failed.migration_name,
    );
  }
  const byName = new Map(files.map((file) => [file.name, file]));
  for (const row of live) {
    const file = byName.get(row.migration_name);
    if (file && !sameChecksum(file, row.checksum)) {
      throw new MigrationError(
        `Migration ${row.migration_name} was modified after it was applied ` +
          `(checksum in the database ${row.checksum}, file ${file.checksum}). ` +
          'Applied migrations must not change: restore the file and put the change in a new migration.',
        row.migration_name,
      );
    }
  }
  const done = new Set(live.map((row) => row.migration_name));
  return files.filter((file) => !done.has(file.name));
}

async function applyOne(session: SqlSession, file: MigrationFile): Promise<void> {
  const id = randomUUID();
  const statements = splitSqlStatements(file.script);
  await session.query('BEGIN');
  let current: (typeof statements)[number] | undefined;
  try {
    await session.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
       VALUES ($1, $2, $3, clock_timestamp(), 0)`,
      [id, file.checksum, file.name],
    );
    for (const statement of statements) {
      current = statement;
      await session.query(statement.text);
    }
    current = undefined;
    await session.query(
      `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`,
      [id],
    );
    await session.query('COMMIT');
  } catch (error) {
    await session.query('ROLLBACK');
    const reason = error instanceof Error ? error.message : String(error);
    const where = current ? ` at line ${current.line}, statement:\n${current.text}` : '';
    const logs = `${reason}${where}`;
    // Recorded the way Prisma records a failed migration, so `prisma migrate status` and a
    // restarted server both see it; the transaction left the schema as it was.
    await session.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, logs, applied_steps_count)
       VALUES ($1, $2, $3, clock_timestamp(), $4, 0)`,
      [id, file.checksum, file.name, logs],
    );
    throw new MigrationError(`Migration ${file.name} failed: ${logs}`, file.name, current?.text);
  }
}

async function withMigrationLock<T>(db: Database, fn: (session: SqlSession) => Promise<T>): Promise<T> {
  return db.withSession(async (session) => {
    await session.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await fn(session);
    } finally {
      await session.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  });
}

/** Applies every pending migration, each in its own transaction, under Prisma's advisory lock. */
export async function migrate(db: Database, options: MigrateOptions = {}): Promise<MigrateResult> {
  const files = readMigrations(options.migrationsDir);
  return withMigrationLock(db, async (session) => {
    await session.query(CREATE_MIGRATIONS_TABLE);
    const pending = plan(files, await appliedMigrations(session));
    const applied: string[] = [];
    for (const file of pending) {
      options.log?.(`Applying migration ${file.name}`);
      await applyOne(session, file);
      applied.push(file.name);
    }
    return { applied };
  });
}

/** Pending migration names; throws MigrationError when history and files disagree. */
export async function pendingMigrations(db: Database, migrationsDir?: string): Promise<string[]> {
  const files = readMigrations(migrationsDir);
  return db.withSession(async (session) => plan(files, await appliedMigrations(session)).map((f) => f.name));
}

/** Like `prisma migrate resolve --rolled-back`: lets a fixed migration be applied again. */
export async function markRolledBack(db: Database, name: string): Promise<number> {
  return withMigrationLock(db, async (session) => {
    const rows = await session.query<{ id: string }>(
      `UPDATE "_prisma_migrations" SET rolled_back_at = now()
       WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL RETURNING id`,
      [name],
    );
    return rows.length;
  });
}
