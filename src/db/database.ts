// One handle for both databases flagledger runs on: PostgreSQL (DATABASE_URL) through
// @prisma/adapter-pg, or embedded PGlite under DATA_DIR through pglite-prisma-adapter.
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';

export type DatabaseKind = 'postgres' | 'pglite';

/** A single connection, for work that needs session state (advisory locks). */
export interface SqlSession {
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
}

export interface Database {
  kind: DatabaseKind;
  prisma: PrismaClient;
  /** Runs fn on one dedicated connection; on PGlite, sessions run one at a time. */
  withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  /** Subscribes to a NOTIFY channel; resolves to an unsubscribe function. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  /**
   * PostgreSQL only: one statement straight through the pool, without Prisma; prepared on each
   * connection when it has a name. For the hottest write (exposures).
   */
  direct?: <Row>(query: { name?: string; text: string; values: unknown[] }) => Promise<Row[]>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string;
  dataDir?: string;
  poolSize?: number;
  /** An already open PGlite instance (tests); closed with the database. */
  pglite?: PGlite;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolSize ?? 10);
  if (options.pglite) return wrapPglite(options.pglite, undefined);
  const dataDir = options.dataDir ?? './.flagledger';
  mkdirSync(dataDir, { recursive: true });
  // PGlite is one process's database: a second process on the same files would corrupt
  // them, so the directory is locked before PGlite opens it.
  const lock = acquireDataDirLock(dataDir);
  try {
    const pglite = await PGlite.create(dataDir);
    return wrapPglite(pglite, lock);
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client's connection error must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  let listener: Promise<pg.Client> | undefined;
  let closed = false;
  const handlers = new Map<string, Set<(payload: string) => void>>();

  // One connection carries every LISTEN of this process. When it drops, it is reopened with
  // backoff and every handler hears '*' (anything may have changed while it was down).
  function listenerClient(): Promise<pg.Client> {
    listener ??= (async () => {
      const client = new pg.Client({ connectionString: url });
      let lost = false;
      const onLost = () => {
        if (lost || closed) return;
        lost = true;
        listener = undefined;
        client.end().catch(() => {});
        void reconnect(0);
      };
      client.on('error', onLost);
      client.on('end', onLost);
      client.on('notification', (message) => {
        for (const handler of handlers.get(message.channel) ?? []) handler(message.payload ?? '');
      });
      await client.connect();
      for (const channel of handlers.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      return client;
    })();
    const pending = listener;
    pending.catch(() => {
      if (listener === pending) listener = undefined;
    });
    return pending;
  }

  async function reconnect(attempt: number): Promise<void> {
    if (closed) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(30_000, 250 * 2 ** attempt)).unref());
    if (closed) return;
    try {
      await listenerClient();
      for (const set of handlers.values()) for (const handler of set) handler('*');
    } catch {
      void reconnect(attempt + 1);
    }
  }

  return {
    kind: 'postgres',
    prisma,
    async withSession(fn) {
      const client = await pool.connect();
      try {
        return await fn({
          async query(text, params) {
            const result = await client.query(text, params as unknown[] | undefined);
            return result.rows;
          },
        });
      } finally {
        client.release();
      }
    },
    async listen(channel, onPayload) {
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        const client = await listenerClient();
        await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      }
      set.add(onPayload);
      return async () => {
        set.delete(onPayload);
      };
    },
    async notify(channel, payload) {
      await pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    async direct<Row>(query: { name?: string; text: string; values: unknown[] }) {
      const result = await pool.query(query);
      return result.rows as Row[];
    },
    async close() {
      closed = true;
      await prisma.$disconnect();
      const client = await listener?.catch(() => undefined);
      await client?.end().catch(() => {});
      await pool.end();
    },
  };
}

function wrapPglite(pglite: PGlite, lock: DataDirLock | undefined): Database {
  // One connection serialises every transaction: one waiting its turn behind others (an export,
  // a batch) is normal here, not a sign of an exhausted pool, so it may wait longer than 2 s.
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite), transactionOptions: { maxWait: 15_000, timeout: 30_000 } });
  let queue: Promise<unknown> = Promise.resolve();
  return {
    kind: 'pglite',
    prisma,
    withSession(fn) {
      // PGlite has a single connection shared by everyone in the process, so session-level
      // state (advisory locks) does not exclude anybody: sessions take turns instead.
      const run = queue.then(() =>
        fn({
          async query(text, params) {
            const result = await pglite.query(text, params as unknown[] | undefined);
            return result.rows as never[];
          },
        }),
      );
      queue = run.catch(() => {});
      return run;
    },
    async listen(channel, onPayload) {
      const unsubscribe = await pglite.listen(channel, onPayload);
      return unsubscribe;
    },
    async notify(channel, payload) {
      await pglite.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    async close() {
      await prisma.$disconnect();
      await pglite.close();
      lock?.release();
    },
  };
}
