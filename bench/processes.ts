// Child processes and scratch databases for the benchmarks.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

export const BENCH_DIR = '.bench';
const LOG_DIR = join(BENCH_DIR, 'logs');

export interface Child {
  name: string;
  process: ChildProcess;
  /** SIGTERM, then SIGKILL after a grace period; resolves when it exited. */
  stop(): Promise<void>;
}

/** Starts a child whose output goes to .bench/logs/<name>.log, and waits until `readyUrl` answers 2xx. */
export async function startChild(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  readyUrl: string,
  timeoutMs = 180_000,
): Promise<Child> {
  mkdirSync(LOG_DIR, { recursive: true });
  const log = createWriteStream(join(LOG_DIR, `${name}.log`));
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  const started = Date.now();
  for (;;) {
    if (dead) throw new Error(`${name} exited during start; see ${join(LOG_DIR, `${name}.log`)}`);
    try {
      const response = await fetch(readyUrl);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`${name} was not ready within ${timeoutMs / 1000} s; see ${join(LOG_DIR, `${name}.log`)}`);
    }
    await sleep(250);
  }
  return {
    name,
    process: child,
    async stop() {
      if (dead) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * BENCH_DATABASE_SUFFIX is appended to every scratch database's name: runs from several
 * checkouts against one PostgreSQL then do not drop each other's databases.
 */
export const scratchName = (name: string) => name + (process.env.BENCH_DATABASE_SUFFIX ?? '');

/** Drops and creates a scratch database on the server `adminUrl` points at; returns its URL. */
export async function freshDatabase(adminUrl: string, scratch: string): Promise<string> {
  const name = scratchName(scratch);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(adminUrl: string, scratch: string): Promise<void> {
  const name = scratchName(scratch);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
