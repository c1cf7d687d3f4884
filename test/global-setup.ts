// Migrates one PGlite database (and, with TEST_DATABASE_URL, one PostgreSQL template
// database) per test run; each test file then starts from a copy of it.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrator.js';
import { createPostgresDatabase, dropPostgresDatabase, postgresUrl, scratchName } from './helpers/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteDumpPath: string;
    postgresTemplate: string | undefined;
  }
}

export default async function setup(project: TestProject) {
  const cacheDir = fileURLToPath(new URL('./.cache/', import.meta.url));
  mkdirSync(cacheDir, { recursive: true });
  const pglite = new PGlite();
  const db = await openDatabase({ pglite });
  await migrate(db);
  const dump = await pglite.dumpDataDir('none');
  const dumpPath = join(cacheDir, `pglite-migrated-${process.pid}.tar`);
  writeFileSync(dumpPath, Buffer.from(await dump.arrayBuffer()));
  await db.close();
  project.provide('pgliteDumpPath', dumpPath);

  let template: string | undefined;
  if (postgresUrl) {
    template = scratchName('flagledger_tpl');
    const url = await createPostgresDatabase(template);
    const pgDb = await openDatabase({ databaseUrl: url, poolSize: 2 });
    await migrate(pgDb);
    await pgDb.close();
  }
  project.provide('postgresTemplate', template);

  return async () => {
    rmSync(dumpPath, { force: true });
    if (template) await dropPostgresDatabase(template);
  };
}
