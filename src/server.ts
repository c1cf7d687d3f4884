// `npm start`: migrate, seed an empty database, serve, and drain on SIGTERM.
import type { AddressInfo } from 'node:net';
import { compose } from './composition.js';
import { ConfigError, loadConfig } from './config.js';
import { type App, createApp } from './http/app.js';
import { openDatabase } from './db/database.js';
import { migrate } from './db/migrator.js';
import { createLogger } from './logger.js';
import { seedIfEmpty, type SeedResult } from './seed/demo.js';
import { type DemoExperiment, seedDemoExperiment } from './seed/demo-experiment.js';
import { type AdminTokenState, ensureAdminToken } from './tokens/service.js';

function banner(url: string, seed: SeedResult | undefined, adminToken: AdminTokenState | undefined, demo: DemoExperiment | undefined): string {
  const lines = [`flagledger is serving ${url}/graphql (GraphiQL: open it in a browser)`, `Experiment results: ${url}/experiments`];
  if (adminToken === 'created') lines.push('Admin token: the ADMIN_TOKEN you configured, added to this database.');
  if (seed) {
    lines.push(`Created the demo project "${seed.projectName}" on this empty database.`);
    lines.push(
      seed.generatedAdminSecret
        ? `Admin token (shown once, keep it):  Authorization: Bearer ${seed.generatedAdminSecret}`
        : 'Admin token: the ADMIN_TOKEN you configured.',
    );
    for (const env of seed.environments) lines.push(`Demo ${env.name} key:  X-Environment-Key: ${env.key}`);
  }
  if (demo) lines.push(`Demo experiment (running on checkout_button in development):  ${url}/experiments/${demo.id}`);
  return lines.join('\n');
}

/** Set by the first SIGTERM/SIGINT: start-up then stops where it is, and its errors are moot. */
let stopping = false;

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize });

  // Signals are handled from here on, before anything is announced: whoever saw the banner may
  // send SIGTERM at once, and a signal during start-up still closes the database.
  let app: App | undefined;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    if (app) await app.drain(config.shutdownTimeoutMs);
    await db.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  const { applied } = await migrate(db, { log: (message) => logger.info(message) });
  if (applied.length) logger.info({ applied }, 'migrations applied');
  const services = compose(config, db, logger);
  const seed = await seedIfEmpty(services);
  // Only the start that created the demo project adds its experiment; a demo is no reason not to serve.
  const demo =
    seed && !stopping
      ? await seedDemoExperiment(services).catch((error: unknown) => {
          if (!stopping) logger.warn({ err: error }, 'the demo experiment could not be created');
          return undefined;
        })
      : undefined;
  // On an existing database, ADMIN_TOKEN is the way back in: it is added as an ADMIN token.
  const adminToken = config.adminToken && !seed ? await ensureAdminToken(services.prisma, config.adminToken) : undefined;
  if (adminToken === 'created') logger.warn('ADMIN_TOKEN was not a token of this database: added it as an ADMIN token');
  if (adminToken === 'revoked') logger.warn('ADMIN_TOKEN names a revoked token: it stays revoked (set another ADMIN_TOKEN or run `npm run admin:token`)');
  if (stopping) return;
  const created = createApp(services);
  app = created;
  await new Promise<void>((resolve) => created.server.listen(config.port, config.host, resolve));
  const { port } = created.server.address() as AddressInfo;
  logger.info({ port, database: db.kind }, 'listening');
  console.log(banner(`http://localhost:${port}`, seed, adminToken, demo));
}

main().catch((error: unknown) => {
  // A signal during start-up closed the database under it: the stop exits.
  if (stopping) return;
  console.error(error instanceof ConfigError || (error instanceof Error && error.name !== 'Error') ? `flagledger could not start: ${error.message}` : error);
  process.exit(1);
});
