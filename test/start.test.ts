// `npm start` as a user runs it: a real process, its printed banner, restarts, a second
// process on the same data, and SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createPostgresDatabase, dropPostgresDatabase, postgresUrl, scratchName } from './helpers/postgres.js';

const root = fileURLToPath(new URL('..', import.meta.url));

interface Started {
  child: ChildProcess;
  output: () => string;
  url: string;
}

const running: ChildProcess[] = [];

function start(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 120_000);
    const check = () => {
      const match = /serving (http:\/\/localhost:\d+)\/graphql/.exec(output);
      if (match) {
        clearTimeout(timer);
        // The banner is printed in one write; give the rest of it a moment to arrive.
        setTimeout(() => resolve({ child, output: () => output, url: match[1] }), 50);
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`server exited with ${code}:\n${output}`), { output, code }));
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function listProjects(url: string, headers: Record<string, string>) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: '{ projects { edges { node { name } } } }' }),
  });
  return (await response.json()) as { data?: { projects: { edges: { node: { name: string } }[] } }; errors?: { extensions: { code: string } }[] };
}

/**
 * Sends `count` requests, each on its own connection, and resolves once every request has
 * been fully written to the server: what SIGTERM must then let finish.
 */
async function sendWithoutWaiting(url: string, token: string, count: number) {
  const body = JSON.stringify({ query: '{ projects { edges { node { name } } } }' });
  const sent: Promise<void>[] = [];
  const answers = Array.from({ length: count }, () => {
    let written!: () => void;
    sent.push(new Promise<void>((resolve) => (written = resolve)));
    return new Promise<{ status: number; names: string[] }>((resolve, reject) => {
      const req = request(
        `${url}/graphql`,
        { method: 'POST', agent: false, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => {
            const parsed = JSON.parse(text) as { data?: { projects: { edges: { node: { name: string } }[] } } };
            resolve({ status: res.statusCode!, names: parsed.data?.projects.edges.map((e) => e.node.name) ?? [] });
          });
        },
      );
      req.on('error', reject);
      req.on('finish', () => written());
      req.end(body);
    });
  });
  await Promise.all(sent);
  // Written by us is not yet read by the server: give the bytes a moment to cross loopback.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return answers;
}

afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
  }
});

// Each test starts real processes (tsx compile, PGlite initdb): slow on a busy 2-core machine.
describe('npm start on the embedded database', { timeout: 240_000 }, () => {
  it('prints the admin token and demo keys once, serves them, and seeds nothing on restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'flagledger-start-'));
    const first = await start({ DATA_DIR: dataDir });
    const token = /Authorization: Bearer (flt_\w+)/.exec(first.output())?.[1];
    const key = /Demo development key:\s+X-Environment-Key: (env_\w+)/.exec(first.output())?.[1];
    expect(token).toBeDefined();
    expect(key).toMatch(/^env_[0-9A-Za-z]{22}$/);

    const asAdmin = await listProjects(first.url, { authorization: `Bearer ${token}` });
    expect(asAdmin.data?.projects.edges.map((e) => e.node.name)).toEqual(['Demo']);
    expect((await listProjects(first.url, {})).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await listProjects(first.url, { 'x-environment-key': key! })).errors?.[0].extensions.code).toBe('FORBIDDEN');

    // A second process on the same directory is refused with a clear message.
    const second = await start({ DATA_DIR: dataDir }).catch((error: { output?: string; code?: number }) => error);
    expect((second as { code?: number }).code).toBe(1);
    expect((second as { output?: string }).output).toMatch(/in use by another flagledger process/);

    // SIGTERM: requests already sent are answered, then the process exits 0.
    const inFlight = await sendWithoutWaiting(first.url, token!, 20);
    first.child.kill('SIGTERM');
    const results = await Promise.all(inFlight);
    for (const result of results) expect(result).toMatchObject({ status: 200, names: ['Demo'] });
    expect(await exited(first.child)).toBe(0);

    const again = await start({ DATA_DIR: dataDir });
    expect(again.output()).not.toMatch(/Bearer|Created the demo project/);
    const listed = await listProjects(again.url, { authorization: `Bearer ${token}` });
    expect(listed.data?.projects.edges.map((e) => e.node.name)).toEqual(['Demo']);
    again.child.kill('SIGTERM');
    expect(await exited(again.child)).toBe(0);
  });

  it('uses ADMIN_TOKEN as the admin secret and never prints it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'flagledger-start-'));
    const secret = 'my-deployment-secret-0123456789';
    const server = await start({ DATA_DIR: dataDir, ADMIN_TOKEN: secret });
    expect(server.output()).not.toContain(secret);
    expect(server.output()).toMatch(/the ADMIN_TOKEN you configured/);
    const listed = await listProjects(server.url, { authorization: `Bearer ${secret}` });
    expect(listed.data?.projects.edges).toHaveLength(1);
    server.child.kill('SIGTERM');
    expect(await exited(server.child)).toBe(0);
  });
});

describe.runIf(postgresUrl)('npm start on PostgreSQL', { timeout: 240_000 }, () => {
  it('lets two servers start at once on one database: migrated once, seeded once', async () => {
    const name = scratchName('flagledger_start');
    const url = await createPostgresDatabase(name);
    try {
      const [a, b] = await Promise.all([start({ DATABASE_URL: url }), start({ DATABASE_URL: url })]);
      const banners = [a.output(), b.output()].filter((o) => /Created the demo project/.test(o));
      expect(banners).toHaveLength(1);
      const token = /Authorization: Bearer (flt_\w+)/.exec(banners[0])![1];
      for (const server of [a, b]) {
        const listed = await listProjects(server.url, { authorization: `Bearer ${token}` });
        expect(listed.data?.projects.edges.map((e) => e.node.name)).toEqual(['Demo']);
      }
      for (const server of [a, b]) {
        server.child.kill('SIGTERM');
        expect(await exited(server.child)).toBe(0);
      }
    } finally {
      await dropPostgresDatabase(name);
    }
  });
});
