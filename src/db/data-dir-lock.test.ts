// The data-directory lock is the kernel's: it holds against every other holder, live or in
// this process, and is gone the moment its holder dies, whatever PIDs say.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { spawnProcess } from '../../test/helpers/processes.js';
import { acquireDataDirLock, DataDirLockedError } from './data-dir-lock.js';

const lockModule = fileURLToPath(new URL('./data-dir-lock.ts', import.meta.url));

function tempDir() {
  return mkdtempSync(join(tmpdir(), 'flagledger-lock-'));
}

/** Another process that takes the lock and keeps it until killed; resolves once it holds it. */
function holder(dataDir: string) {
  return spawnProcess(
    process.execPath,
    ['--import', 'tsx', '-e', `const m = await import(${JSON.stringify(lockModule)}); m.acquireDataDirLock(${JSON.stringify(dataDir)}); console.log('locked'); setInterval(() => {}, 1000);`],
    { ready: (output) => output.includes('locked'), timeoutMs: 60_000 },
  );
}

describe('data directory lock', () => {
  it('refuses a second holder in the same process until released', () => {
    const dir = tempDir();
    const lock = acquireDataDirLock(dir);
    expect(readFileSync(join(dir, 'flagledger.lock'), 'utf8')).toBe(String(process.pid));
    expect(() => acquireDataDirLock(dir)).toThrow(DataDirLockedError);
    lock.release();
    acquireDataDirLock(dir).release();
  });

  it('takes a lock file naming a live process that holds no lock (PID reuse)', () => {
    const dir = tempDir();
    // Our parent is alive and is no flagledger server: the file lies, the kernel does not.
    writeFileSync(join(dir, 'flagledger.lock'), String(process.ppid));
    acquireDataDirLock(dir).release();
    // Even our own PID in the file (a restarted container's PID 1) is no reason to refuse.
    writeFileSync(join(dir, 'flagledger.lock'), String(process.pid));
    acquireDataDirLock(dir).release();
  });

  it('refuses while another process holds it and takes it once that process is SIGKILLed', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const other = await holder(dir);
    expect(() => acquireDataDirLock(dir)).toThrow(new RegExp(`in use by another flagledger process \\(pid ${other.child.pid}\\)`));
    other.child.kill('SIGKILL');
    await other.exited();
    acquireDataDirLock(dir).release();
  });
});
