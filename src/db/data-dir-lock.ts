// An exclusive lock on a PGlite data directory, held by the process that opened it.
//
// The lock is a kernel file lock (an open-file-description lock on Linux, flock on macOS,
// LockFileEx on Windows) on `flagledger.lock`: the kernel drops it whenever the holder
// exits, SIGKILL included. No PID is ever compared: PIDs repeat (a restarted container's
// server is PID 1 again, a dead server's PID may now be any other process). The PID written
// in the file only names the holder in the error message.
import { closeSync, constants, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export interface DataDirLock {
  release(): void;
}

export class DataDirLockedError extends Error {
  constructor(dataDir: string, pid: number | undefined) {
    super(
      `The embedded database in ${dataDir} is in use by another flagledger process` +
        `${pid === undefined ? '' : ` (pid ${pid}${pid === process.pid ? ', this process' : ''})`}. ` +
        'PGlite allows one process per data directory: stop that process, choose another DATA_DIR, ' +
        'or set DATABASE_URL to share a PostgreSQL database between processes.',
    );
    this.name = 'DataDirLockedError';
  }
}

type TryLock = (fd: number) => boolean;
let tryLockFn: TryLock | undefined;

/** Loaded on first use, so that a platform without the prebuilt addon can still use PostgreSQL. */
function tryLock(fd: number): boolean {
  if (!tryLockFn) {
    try {
      tryLockFn = (createRequire(import.meta.url)('fs-native-extensions') as { tryLock: TryLock }).tryLock;
    } catch (error) {
      throw new Error(
        `The embedded database needs a file lock that fs-native-extensions provides, and it did not load on ` +
          `${process.platform}-${process.arch} (${(error as Error).message}). Set DATABASE_URL to use PostgreSQL instead.`,
      );
    }
  }
  return tryLockFn(fd);
}

function recordedPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function acquireDataDirLock(dataDir: string): DataDirLock {
  const path = join(dataDir, 'flagledger.lock');
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
  try {
    if (!tryLock(fd)) throw new DataDirLockedError(dataDir, recordedPid(path));
    ftruncateSync(fd, 0);
    writeSync(fd, String(process.pid), 0);
  } catch (error) {
    // Closing the descriptor also drops the lock if it was taken.
    closeSync(fd);
    throw error;
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      // The file stays: removing it would let a newcomer lock a fresh file while another
      // process still holds the old, unlinked one.
      closeSync(fd);
    },
  };
}
