// `npm start` as a user runs it: a real process, its printed banner, restarts, a second
// process on the same data, and SIGTERM.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPostgresDatabase, dropPostgresDatabase, postgresUrl, scratchName } from './helpers/postgres.js';
import { type ExitedEarly, runNpm, spawnServer } from './helpers/processes.js';

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

/** Resolves once nothing accepts connections at `url` any more. */
async function refusesConnections(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/ready`);
    return false;
  } catch {
    return true;
  }
}

// Each test starts real processes (tsx compile, PGlite initdb): slow on a busy 2-core machine.
describe('npm start on the embedded database', { timeout: 240_000 }, () => {
  it('prints the admin token and demo keys once, serves them, and seeds nothing on restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'flagledger-start-'));
    const first = await spawnServer({ DATA_DIR: dataDir });
    const token = /Authorization: Bearer (flt_\w+)/.exec(first.output())?.[1];
    const key = /Demo development key:\s+X-Environment-Key: (env_\w+)/.exec(first.output())?.[1];
    expect(token).toBeDefined();
    expect(key).toMatch(/^env_[0-9A-Za-z]{22}$/);

    const asAdmin = await listProjects(first.url, { authorization: `Bearer ${token}` });
    expect(asAdmin.data?.projects.edges.map((e) => e.node.name)).toEqual(['Demo']);
    expect((await listProjects(first.url, {})).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await listProjects(first.url, { 'x-environment-key': key! })).errors?.[0].extensions.code).toBe('FORBIDDEN');

    // The demo experiment, its results page linked from the banner: running, with a few hundred exposures.
    const experimentId = /Demo experiment \(running on checkout_button in development\):\s+http:\/\/localhost:\d+\/experiments\/(\S+)/.exec(first.output())?.[1];
    expect(experimentId).toBeDefined();
    expect((await fetch(`${first.url}/experiments/${experimentId}`)).status).toBe(200);
    const demo = await fetch(`${first.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: 'query ($id: ID!) { node(id: $id) { ... on Experiment { status feature { name } environment { name } results { identities exposures srm { status } } } } }',
        variables: { id: experimentId },
      }),
    });
    expect(((await demo.json()) as { data: unknown }).data).toMatchObject({
      node: { status: 'RUNNING', feature: { name: 'checkout_button' }, environment: { name: 'development' }, results: { identities: 240, exposures: expect.any(Number) } },
    });

    // A second process on the same directory is refused with a clear message.
    const second = await spawnServer({ DATA_DIR: dataDir }).catch((error: ExitedEarly) => error);
    expect((second as ExitedEarly).code).toBe(1);
    expect((second as ExitedEarly).output).toMatch(/in use by another flagledger process/);

    // SIGTERM: requests already sent are answered, then the process exits 0.
    const inFlight = await sendWithoutWaiting(first.url, token!, 20);
    first.child.kill('SIGTERM');
    const results = await Promise.all(inFlight);
    for (const result of results) expect(result).toMatchObject({ status: 200, names: ['Demo'] });
    expect(await first.exited()).toBe(0);

    const again = await spawnServer({ DATA_DIR: dataDir });
    expect(again.output()).not.toMatch(/Bearer|Created the demo project|Demo experiment/);
    const listed = await listProjects(again.url, { authorization: `Bearer ${token}` });
    expect(listed.data?.projects.edges.map((e) => e.node.name)).toEqual(['Demo']);
    again.child.kill('SIGTERM');
    expect(await again.exited()).toBe(0);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('npm start on %s: answers what was sent, closes the database, exits 0', async (signal) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'flagledger-start-'));
    const server = await spawnServer({ DATA_DIR: dataDir, LOG_LEVEL: 'info' }, { viaNpm: true });
    const token = /Authorization: Bearer (flt_\w+)/.exec(server.output())![1];

    // The signal goes to the npm process alone, as `docker stop` sends it to PID 1.
    const inFlight = await sendWithoutWaiting(server.url, token, 5);
    server.child.kill(signal);
    for (const result of await Promise.all(inFlight)) expect(result).toMatchObject({ status: 200, names: ['Demo'] });
    expect(await server.exited()).toBe(0);
    expect(server.output()).toMatch(/"msg":"stopped"/);
    expect(await refusesConnections(server.url)).toBe(true);

    const again = await spawnServer({ DATA_DIR: dataDir }, { viaNpm: true });
    const listed = await listProjects(again.url, { authorization: `Bearer ${token}` });
    expect(listed.data?.projects.edges.map((e) => e.node.name)).toEqual(['Demo']);
    again.child.kill('SIGTERM');
    expect(await again.exited()).toBe(0);
  });

  it('starts over a lock left by a SIGKILLed server, or naming a live process that is no server', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'flagledger-start-'));
    const first = await spawnServer({ DATA_DIR: dataDir });
    const token = /Authorization: Bearer (flt_\w+)/.exec(first.output())![1];
    first.child.kill('SIGKILL');
    await first.exited();

    const afterKill = await spawnServer({ DATA_DIR: dataDir });
    afterKill.child.kill('SIGKILL');
    await afterKill.exited();
    // The dead server's PID now names a live process (a reused PID, or PID 1 again in a container).
    writeFileSync(join(dataDir, 'flagledger.lock'), String(process.pid));

    const again = await spawnServer({ DATA_DIR: dataDir });
    const listed = await listProjects(again.url, { authorization: `Bearer ${token}` });
    expect(listed.data?.projects.edges.map((e) => e.node.name)).toEqual(['Demo']);

    // A live server still refuses a second one, naming it.
    const second = await spawnServer({ DATA_DIR: dataDir }).catch((error: ExitedEarly) => error);
    expect((second as ExitedEarly).code).toBe(1);
    expect((second as ExitedEarly).output).toContain(`in use by another flagledger process (pid ${again.child.pid})`);
    again.child.kill('SIGTERM');
    expect(await again.exited()).toBe(0);
  });

  it('recovers admin access on an existing database: npm run admin:token, and ADMIN_TOKEN on a start', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'flagledger-start-'));
    const first = await spawnServer({ DATA_DIR: dataDir });
    const firstToken = /Authorization: Bearer (flt_\w+)/.exec(first.output())![1];

    // While the server holds the embedded database, the command is refused clearly.
    const busy = await runNpm('admin:token', [], { DATA_DIR: dataDir });
    expect(busy.code).toBe(1);
    expect(busy.output).toMatch(/in use by another flagledger process/);
    first.child.kill('SIGTERM');
    expect(await first.exited()).toBe(0);

    const made = await runNpm('admin:token', ['--name', 'on-call admin'], { DATA_DIR: dataDir });
    expect(made.code).toBe(0);
    const secrets = [...made.stdout.matchAll(/Authorization: Bearer (flt_\w+)/g)].map((m) => m[1]);
    expect(secrets).toHaveLength(1);
    expect(secrets[0]).not.toBe(firstToken);

    const configured = 'recovery-secret-0123456789abcdef';
    const server = await spawnServer({ DATA_DIR: dataDir, ADMIN_TOKEN: configured, LOG_LEVEL: 'info' });
    expect(server.output()).not.toContain(configured);
    expect(server.output()).toMatch(/the ADMIN_TOKEN you configured, added to this database/);
    for (const secret of [firstToken, secrets[0], configured]) {
      const listed = await listProjects(server.url, { authorization: `Bearer ${secret}` });
      expect(listed.data?.projects.edges.map((e) => e.node.name)).toEqual(['Demo']);
    }
    // Both tokens made outside the API are in the audit log, each naming what made it.
    const audit = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${configured}` },
      body: JSON.stringify({ query: '{ auditLog { edges { node { action actor { tokenId name } after } } } }' }),
    });
    const entries = ((await audit.json()) as { data: { auditLog: { edges: { node: unknown }[] } } }).data.auditLog.edges.map((e) => e.node);
    expect(entries).toEqual([
      { action: 'createApiToken', actor: { tokenId: null, name: 'ADMIN_TOKEN at server start' }, after: expect.objectContaining({ name: 'admin (ADMIN_TOKEN)' }) },
      { action: 'createApiToken', actor: { tokenId: null, name: 'npm run admin:token' }, after: expect.objectContaining({ name: 'on-call admin' }) },
    ]);
    server.child.kill('SIGTERM');
    expect(await server.exited()).toBe(0);

    // A later start with the same ADMIN_TOKEN adds nothing more.
    const again = await spawnServer({ DATA_DIR: dataDir, ADMIN_TOKEN: configured });
    expect(again.output()).not.toMatch(/added to this database/);
    again.child.kill('SIGTERM');
    expect(await again.exited()).toBe(0);
  });

  it('uses ADMIN_TOKEN as the admin secret and never prints it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'flagledger-start-'));
    const secret = 'my-deployment-secret-0123456789';
    const server = await spawnServer({ DATA_DIR: dataDir, ADMIN_TOKEN: secret });
    expect(server.output()).not.toContain(secret);
    expect(server.output()).toMatch(/the ADMIN_TOKEN you configured/);
    const listed = await listProjects(server.url, { authorization: `Bearer ${secret}` });
    expect(listed.data?.projects.edges).toHaveLength(1);
    server.child.kill('SIGTERM');
    expect(await server.exited()).toBe(0);
  });
});

describe.runIf(postgresUrl)('npm start on PostgreSQL', { timeout: 240_000 }, () => {
  it('lets two servers start at once on one database: migrated once, seeded once', async () => {
    const name = scratchName('flagledger_start');
    const url = await createPostgresDatabase(name);
    try {
      const [a, b] = await Promise.all([spawnServer({ DATABASE_URL: url }), spawnServer({ DATABASE_URL: url })]);
      const banners = [a.output(), b.output()].filter((o) => /Created the demo project/.test(o));
      expect(banners).toHaveLength(1);
      // The demo experiment too, by the start that seeded the project only.
      expect([a.output(), b.output()].filter((o) => /Demo experiment/.test(o))).toEqual(banners);
      const token = /Authorization: Bearer (flt_\w+)/.exec(banners[0])![1];
      for (const server of [a, b]) {
        const listed = await listProjects(server.url, { authorization: `Bearer ${token}` });
        expect(listed.data?.projects.edges.map((e) => e.node.name)).toEqual(['Demo']);
      }
      // A new admin token while both serve: PostgreSQL is shared, nothing needs to stop.
      const made = await runNpm('admin:token', [], { DATABASE_URL: url });
      expect(made.code).toBe(0);
      const secret = /Authorization: Bearer (flt_\w+)/.exec(made.stdout)![1];
      const listed = await listProjects(a.url, { authorization: `Bearer ${secret}` });
      expect(listed.data?.projects.edges.map((e) => e.node.name)).toEqual(['Demo']);
      for (const server of [a, b]) {
        server.child.kill('SIGTERM');
        expect(await server.exited()).toBe(0);
      }
    } finally {
      await dropPostgresDatabase(name);
    }
  });
});
