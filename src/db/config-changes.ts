// One notifier of evaluation-config changes: admin writes announce the environments they
// changed once committed; subscribers in this process hear at once, and other server processes
// on the same database hear through LISTEN/NOTIFY (their own notices filtered out by origin).
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from './database.js';

/** NOTIFY channel on which server processes tell each other which environments changed. */
export const CONFIG_CHANNEL = 'flagledger_config';
/** NOTIFY payloads must stay under 8000 bytes. */
const IDS_PER_NOTIFICATION = 500;

/** The environments changed; `undefined` when unknown (an unreadable notice): drop everything. */
export type ConfigChangeListener = (environmentIds: number[] | undefined) => void;

export interface ConfigChanges {
  /** After a committed write: tells this process's subscribers, then the other processes. */
  announce(environmentIds: number[]): Promise<void>;
  subscribe(listener: ConfigChangeListener): void;
  /** Resolves once this process listens for other processes' notices (or gave up: TTL only). */
  readonly listening: Promise<void>;
}

export function createConfigChanges(deps: { db: Database; logger: Logger }): ConfigChanges {
  const { db, logger } = deps;
  const origin = randomUUID();
  const listeners: ConfigChangeListener[] = [];
  const tell = (environmentIds: number[] | undefined) => {
    for (const listener of listeners) listener(environmentIds);
  };

  const onNotice = (payload: string) => {
    try {
      const notice = JSON.parse(payload) as { origin?: unknown; environmentIds?: unknown };
      if (notice.origin === origin) return;
      if (Array.isArray(notice.environmentIds)) {
        tell(notice.environmentIds.filter((id): id is number => Number.isInteger(id)));
        return;
      }
    } catch {
      // fall through: an unreadable notice drops everything, to be safe
    }
    tell(undefined);
  };

  const listening = db
    .listen(CONFIG_CHANNEL, onNotice)
    .then(() => undefined)
    .catch((error: unknown) => {
      logger.warn({ err: error }, 'not listening for config changes of other server processes: relying on the cache TTL');
    });

  return {
    listening,
    subscribe(listener) {
      listeners.push(listener);
    },
    async announce(environmentIds) {
      if (environmentIds.length === 0) return;
      const unique = [...new Set(environmentIds)];
      tell(unique);
      try {
        for (let i = 0; i < unique.length; i += IDS_PER_NOTIFICATION) {
          await db.notify(CONFIG_CHANNEL, JSON.stringify({ origin, environmentIds: unique.slice(i, i + IDS_PER_NOTIFICATION) }));
        }
      } catch (error) {
        // The write is committed; other processes catch up within the cache TTL.
        logger.warn({ err: error, environmentIds: unique }, 'could not notify other server processes of a config change');
      }
    },
  };
}
