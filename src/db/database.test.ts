import { describe, expect, it } from 'vitest';
import { databaseKinds, migratedDatabase } from '../../test/helpers/databases.js';
import { eventually } from '../../test/helpers/eventually.js';
import { postgresUrl } from '../../test/helpers/postgres.js';

const waitFor = (predicate: () => boolean, what: string) => eventually(predicate, { timeoutMs: 15_000, intervalMs: 20, what });

describe.each(databaseKinds)('notifications on %s', (kind) => {
  it('delivers NOTIFY payloads to listeners', async () => {
    const database = await migratedDatabase(kind);
    try {
      const received: string[] = [];
      await database.db.listen('flagledger_test', (payload) => received.push(payload));
      await database.db.notify('flagledger_test', 'hello');
      await waitFor(() => received.includes('hello'), 'the notice');
    } finally {
      await database.dispose();
    }
  });
});

describe.runIf(postgresUrl)('notifications on postgres after the listening connection dropped', () => {
  it('reconnects, tells listeners that anything may have changed, and delivers again', async () => {
    const database = await migratedDatabase('postgres');
    try {
      const received: string[] = [];
      await database.db.listen('flagledger_test', (payload) => received.push(payload));
      await database.db.prisma.$queryRawUnsafe(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
      );
      await waitFor(() => received.includes('*'), 'the reconnection notice');
      await database.db.notify('flagledger_test', 'after');
      await waitFor(() => received.includes('after'), 'the notice after reconnecting');
    } finally {
      await database.dispose();
    }
  });
});
