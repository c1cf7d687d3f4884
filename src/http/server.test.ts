// The HTTP surface every domain shares: authentication, health, GraphiQL offline, limits,
// request ids, masked errors and tokens.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';

const ProjectNames = graphql(`
  query ProjectNames {
    projects { edges { node { name } } }
  }
`);

const CreateToken = graphql(`
  mutation CreateToken($input: CreateApiTokenInput!) {
    createApiToken(input: $input) {
      __typename
      ... on CreateApiTokenPayload { secret token { id name scopes revokedAt } }
      ... on Error { code message }
    }
  }
`);

const RevokeToken = graphql(`
  mutation RevokeToken($input: RevokeApiTokenInput!) {
    revokeApiToken(input: $input) {
      __typename
      ... on RevokeApiTokenPayload { token { id revokedAt } }
      ... on Error { code }
    }
  }
`);

const CreateProjectByName = graphql(`
  mutation CreateProjectByName($name: String!) {
    createProject(input: { name: $name }) { __typename }
  }
`);

const Viewer = graphql(`
  query WhoAmI { viewer { kind scopes } }
`);

describe.each(databaseKinds)('HTTP surface on %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(() => server?.close());

  it('answers with the admin token and refuses without credentials or with bad ones', async () => {
    const ok = await server.data(ProjectNames, {});
    expect(ok.projects.edges.map((e) => e.node.name)).toContain('Demo');

    for (const as of [{}, { token: 'flt_not_a_real_token' }, { headers: { authorization: 'Basic abc' } }, { environmentKey: 'env_unknown' }]) {
      const denied = await server.request(ProjectNames, {}, as);
      expect(denied.data).toBeNull();
      expect(denied.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('gives FORBIDDEN to a client key and to an analytics token on admin operations', async () => {
    const environmentKey = server.demo.environments[0].key;
    const asClient = await server.request(ProjectNames, {}, { environmentKey });
    expect(asClient.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const write = await server.request(CreateProjectByName, { name: 'nope' }, { token: server.analyticsToken });
    expect(write.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const read = await server.data(ProjectNames, {}, { token: server.analyticsToken });
    expect(read.projects.edges.length).toBeGreaterThan(0);
    const viewer = await server.data(Viewer, {}, { environmentKey });
    expect(viewer.viewer).toEqual({ kind: 'client', scopes: ['CLIENT'] });
  });

  it('creates a token whose secret works once shown, stores only its hash, and revokes it', async () => {
    const created = await server.data(CreateToken, { input: { name: 'ci job', scopes: ['ANALYTICS'] } });
    if (created.createApiToken.__typename !== 'CreateApiTokenPayload') throw new Error('expected a token');
    const { secret, token } = created.createApiToken;
    expect(token.scopes).toEqual(['ANALYTICS']);
    const stored = await server.services.prisma.apiToken.findMany();
    expect(stored.some((t) => t.tokenHash.includes(secret) || t.tokenHash === secret)).toBe(false);
    expect((await server.data(Viewer, {}, { token: secret })).viewer).toEqual({ kind: 'token', scopes: ['ANALYTICS'] });

    const revoked = await server.data(RevokeToken, { input: { id: token.id } });
    expect(revoked.revokeApiToken).toMatchObject({ token: { id: token.id } });
    const after = await server.request(ProjectNames, {}, { token: secret });
    expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const invalid = await server.data(CreateToken, { input: { name: ' ', scopes: ['ADMIN'] } });
    expect(invalid.createApiToken).toMatchObject({ code: 'INVALID_NAME' });
    const none = await server.data(CreateToken, { input: { name: 'empty', scopes: [] } });
    expect(none.createApiToken).toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('serves /health and /ready', async () => {
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('serves GraphiQL and all its assets itself, naming no other host', async () => {
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/graphiql/render.js');
    const references = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(references.length).toBeGreaterThan(0);
    for (const ref of references) expect(ref).toMatch(/^(\/|data:)/);
    expect(html).not.toMatch(/https?:\/\/(?!localhost)/);
    const named = (text: string) => [...text.matchAll(/'(\/graphiql\/[\w.-]+)'|"(\/graphiql\/[\w.-]+)"/g)].map((m) => m[1] ?? m[2]);
    const assets = new Set(named(html));
    // The workers are named by the page's Monaco environment script.
    for (const script of [...assets].filter((a) => a.endsWith('monaco-environment.js'))) {
      for (const worker of named(await (await fetch(`${server.url}${script}`)).text())) assets.add(worker);
    }
    expect(assets.size).toBeGreaterThanOrEqual(7);
    for (const asset of assets) {
      const response = await fetch(`${server.url}${asset}`);
      expect({ asset, status: response.status }).toEqual({ asset, status: 200 });
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(100);
      const etag = response.headers.get('etag')!;
      expect((await fetch(`${server.url}${asset}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    }
  });

  it('echoes a request id and makes one when none is sent', async () => {
    const given = await server.post({ query: '{ __typename }' }, { 'x-request-id': 'abc-123' });
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    const made = await server.post({ query: '{ __typename }' });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a body over the limit with 413 and changes nothing', async () => {
    const name = 'x'.repeat(server.services.config.bodyLimitBytes + 1);
    const response = await server.post(
      { query: 'mutation($n: String!) { createProject(input: { name: $n }) { __typename } }', variables: { n: name } },
      { authorization: `Bearer ${server.adminToken}` },
    );
    expect(response.status).toBe(413);
    expect(await server.services.prisma.project.count({ where: { name } })).toBe(0);
  });

  it('stops reading a chunked body (no declared length) once it passes the limit, and changes nothing', async () => {
    const name = 'y'.repeat(server.services.config.bodyLimitBytes + 1);
    const body = JSON.stringify({ query: 'mutation($n: String!) { createProject(input: { name: $n }) { __typename } }', variables: { n: name } });
    const outcome = await new Promise<string>((resolve) => {
      const target = new URL(`${server.url}/graphql`);
      const req = request(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` } },
        (res) => resolve(`status ${res.statusCode}`),
      );
      req.on('error', (error: NodeJS.ErrnoException) => resolve(`closed ${error.code ?? error.message}`));
      // Sent in pieces, as a client streaming a body without Content-Length does.
      for (let offset = 0; offset < body.length; offset += 16_384) req.write(body.slice(offset, offset + 16_384));
      req.end();
    });
    // The connection is cut where the limit was passed (or the 413 got out first): never executed.
    expect(outcome).toMatch(/^(status 413|closed (ECONNRESET|EPIPE|socket hang up))$/);
    expect(await server.services.prisma.project.count({ where: { name } })).toBe(0);
  });

  it('refuses queries deeper or costlier than the limits', async () => {
    const deep = await server.post(
      {
        query:
          '{ projects { edges { node { environments { project { environments { project { environments { project { environments { project { name } } } } } } } } } } } }',
      },
      { authorization: `Bearer ${server.adminToken}` },
    );
    const body = (await deep.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
    expect(body.errors?.[0]?.message).toMatch(/too deep|too costly/);
    expect(body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(await server.data(ProjectNames, {})).toBeTruthy();
  });
});

describe.each(databaseKinds)('unexpected errors on %s', (kind) => {
  it('are masked: no stack, no SQL, a generic message and a code', async () => {
    const server = await startTestServer(kind);
    try {
      // Pull the database away under the server: every resolver now fails unexpectedly.
      await server.services.prisma.$executeRawUnsafe('ALTER TABLE "Project" RENAME TO "ProjectGone"');
      const result = await server.request(ProjectNames, {});
      const error = result.errors?.[0];
      expect(error?.message).toBe('Unexpected error.');
      expect(error?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(JSON.stringify(result)).not.toMatch(/ProjectGone|Project"|relation|stack|at /);
    } finally {
      await server.close();
    }
  });
});
