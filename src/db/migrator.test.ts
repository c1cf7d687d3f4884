import { cpSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseKinds, emptyDatabase, secondHandle, type TestDatabase } from '../../test/helpers/databases.js';
import { defaultMigrationsDir, markRolledBack, migrate, MigrationError, pendingMigrations, readMigrations } from './migrator.js';

function scratchMigrations(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flagledger-migrations-'));
  cpSync(defaultMigrationsDir, dir, { recursive: true });
  return dir;
}

function addMigration(dir: string, name: string, sql: string): void {
  mkdirSync(join(dir, name));
  writeFileSync(join(dir, name, 'migration.sql'), sql);
}

async function tables(database: TestDatabase): Promise<string[]> {
  const rows = await database.db.withSession((s) =>
    s.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    ),
  );
  return rows.map((r) => r.table_name);
}

async function history(database: TestDatabase) {
  return database.db.withSession((s) =>
    s.query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number; logs: string | null; started_at: Date; rolled_back_at: Date | null }>(
      `SELECT * FROM "_prisma_migrations" ORDER BY started_at`,
    ),
  );
}

describe.each(databaseKinds)('migrator on %s', (kind) => {
  const open: TestDatabase[] = [];
  const fresh = async () => {
    const database = await emptyDatabase(kind);
    open.push(database);
    return database;
  };
  afterEach(async () => {
    await Promise.all(open.splice(0).map((d) => d.dispose()));
  });

  it('migrates a fresh database and records each migration as Prisma does', async () => {
    const database = await fresh();
    const { applied } = await migrate(database.db);
    const files = readMigrations();
    expect(applied).toEqual(files.map((f) => f.name));
    const rows = await history(database);
    expect(rows).toHaveLength(files.length);
    for (const [i, row] of rows.entries()) {
      const bytes = readFileSync(join(defaultMigrationsDir, files[i].name, 'migration.sql'));
      // Prisma's checksum: SHA-256 of the migration.sql bytes, hex.
      expect(row.checksum).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(row.migration_name).toBe(files[i].name);
      expect(row.applied_steps_count).toBe(1);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row.rolled_back_at).toBeNull();
    }
    expect(await tables(database)).toEqual(
      expect.arrayContaining(['Project', 'Environment', 'Feature', 'MultivariateOption', 'Exposure', 'Assignment', '_prisma_migrations']),
    );
    expect(await pendingMigrations(database.db)).toEqual([]);
  });

  it('does nothing on a second run', async () => {
    const database = await fresh();
    await migrate(database.db);
    const before = await history(database);
    expect((await migrate(database.db)).applied).toEqual([]);
    expect(await history(database)).toEqual(before);
  });

  it('applies once when two runs race', async () => {
    const database = await fresh();
    const other = kind === 'postgres' ? await secondHandle(database) : database.db;
    try {
      const results = await Promise.all([migrate(database.db), migrate(other)]);
      const applied = results.flatMap((r) => r.applied);
      expect(applied).toEqual(readMigrations().map((f) => f.name));
      expect(await history(database)).toHaveLength(readMigrations().length);
    } finally {
      if (other !== database.db) await other.close();
    }
  });

  it('applies only the new migration later, and refuses an applied file that changed', async () => {
    const database = await fresh();
    const dir = scratchMigrations();
    await migrate(database.db, { migrationsDir: dir });
    addMigration(dir, '29990101000000_add_note', 'ALTER TABLE "Project" ADD COLUMN "note" TEXT;\n');
    expect(await pendingMigrations(database.db, dir)).toEqual(['29990101000000_add_note']);
    expect((await migrate(database.db, { migrationsDir: dir })).applied).toEqual(['29990101000000_add_note']);

    writeFileSync(join(dir, '29990101000000_add_note', 'migration.sql'), 'ALTER TABLE "Project" ADD COLUMN "note2" TEXT;\n');
    const error = await migrate(database.db, { migrationsDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as MigrationError).message).toMatch(/29990101000000_add_note was modified after it was applied/);
    const columns = await database.db.withSession((s) =>
      s.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_name = 'Project'`),
    );
    expect(columns.map((c) => c.column_name)).not.toContain('note2');
  });

  it('rolls a failing migration back whole, names the statement, and refuses to go on until resolved', async () => {
    const database = await fresh();
    const dir = scratchMigrations();
    await migrate(database.db, { migrationsDir: dir });
    addMigration(
      dir,
      '29990101000000_broken',
      [
        '-- CreateTable',
        'CREATE TABLE "Half" ("id" SERIAL PRIMARY KEY);',
        '',
        '-- A typo: this table does not exist',
        'ALTER TABLE "Projekt" ADD COLUMN "x" TEXT;',
        '',
      ].join('\n'),
    );
    const error = (await migrate(database.db, { migrationsDir: dir }).catch((e: unknown) => e)) as MigrationError;
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.migration).toBe('29990101000000_broken');
    expect(error.statement).toBe('ALTER TABLE "Projekt" ADD COLUMN "x" TEXT');
    expect(error.message).toMatch(/line 5/);
    expect(error.message).toMatch(/Projekt/);
    expect(await tables(database)).not.toContain('Half');

    const failed = (await history(database)).find((r) => r.migration_name === '29990101000000_broken')!;
    expect(failed.finished_at).toBeNull();
    expect(failed.logs).toMatch(/Projekt/);

    // Prisma refuses to continue past a failed migration (P3009); so does the migrator.
    const again = (await migrate(database.db, { migrationsDir: dir }).catch((e: unknown) => e)) as MigrationError;
    expect(again.message).toMatch(/29990101000000_broken failed/);
    expect(again.message).toMatch(/--rolled-back 29990101000000_broken/);

    writeFileSync(join(dir, '29990101000000_broken', 'migration.sql'), 'CREATE TABLE "Half" ("id" SERIAL PRIMARY KEY);\n');
    expect(await markRolledBack(database.db, '29990101000000_broken')).toBe(1);
    expect((await migrate(database.db, { migrationsDir: dir })).applied).toEqual(['29990101000000_broken']);
    expect(await tables(database)).toContain('Half');
  });
});
