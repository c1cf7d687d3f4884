// /health (the process answers) and /ready (the database answers and is migrated).
import type { ServerResponse } from 'node:http';
import type { Services } from '../composition.js';
import { pendingMigrations } from '../db/migrator.js';
import { sendJson } from './bridge.js';

export function health(res: ServerResponse): void {
  sendJson(res, 200, { status: 'ok' });
}

export async function ready(services: Services, res: ServerResponse): Promise<void> {
  try {
    await services.prisma.$queryRaw`SELECT 1`;
    const pending = await pendingMigrations(services.db);
    if (pending.length) return sendJson(res, 503, { status: 'migrations pending', pending });
    sendJson(res, 200, { status: 'ready' });
  } catch (error) {
    // The reason may name hosts, users or files: it goes to the log, not to the caller.
    services.logger.error({ err: error }, 'readiness check: database unavailable');
    sendJson(res, 503, { status: 'database unavailable' });
  }
}
