// `npm run admin:token [-- --name <name>]`: creates an ADMIN token on the configured database
// (DATABASE_URL, or the PGlite DATA_DIR of a stopped server) and prints its secret once. The
// way back in when no admin secret is at hand.
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { ValidationError } from '../errors/app-errors.js';
import { runAudited } from '../audit/scope.js';
import { createApiToken } from './service.js';

class UsageError extends Error {}

function tokenName(argv: string[]): string {
  const flag = argv.indexOf('--name');
  if (flag === -1) return 'admin (npm run admin:token)';
  const name = argv[flag + 1];
  if (name === undefined || name.startsWith('--')) throw new UsageError('--name needs a value, e.g. --name "on-call admin"');
  return name;
}

async function main(): Promise<void> {
  const name = tokenName(process.argv.slice(2));
  const config = loadConfig();
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
  try {
    const [{ table }] = await db.withSession((session) => session.query<{ table: string | null }>(`SELECT to_regclass('"ApiToken"')::text AS "table"`));
    if (!table) {
      throw new UsageError(
        `no flagledger database at ${config.databaseUrl ? 'DATABASE_URL' : `DATA_DIR ${config.dataDir}`}: ` +
          'run `npm start` once first (it creates the first admin token).',
      );
    }
    const { token, secret } = await runAudited({ action: 'createApiToken', actor: { tokenId: null, name: 'npm run admin:token' } }, () =>
      createApiToken(db.prisma, { name, scopes: ['ADMIN'] }),
    );
    console.log(`Created the ADMIN token "${token.name}".`);
    console.log(`Admin token (shown once, keep it):  Authorization: Bearer ${secret}`);
  } finally {
    await db.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    const known = error instanceof UsageError || error instanceof ValidationError || (error instanceof Error && error.name !== 'Error');
    console.error(known ? `admin:token failed: ${(error as Error).message}` : error);
    process.exit(1);
  },
);
