// `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the PGlite DATA_DIR).
// `npm run db:migrate -- --rolled-back <name>` marks a failed migration as rolled back.
import { loadConfig } from '../config.js';
import { openDatabase } from './database.js';
import { markRolledBack, migrate, MigrationError } from './migrator.js';

async function main(): Promise<number> {
  const config = loadConfig();
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  try {
    const flag = process.argv.indexOf('--rolled-back');
    if (flag !== -1) {
      const name = process.argv[flag + 1];
      if (!name) throw new MigrationError('--rolled-back needs the name of the failed migration');
      const count = await markRolledBack(db, name);
      console.log(count ? `Marked ${name} as rolled back.` : `No failed attempt of ${name} to mark.`);
      return count ? 0 : 1;
    }
    const { applied } = await migrate(db, { log: (message) => console.log(message) });
    console.log(applied.length ? `Applied ${applied.length} migration(s).` : 'Database is up to date.');
    return 0;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof MigrationError ? `Migration failed: ${error.message}` : error);
    process.exit(1);
  },
);
