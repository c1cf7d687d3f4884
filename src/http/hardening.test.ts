// The HTTP surface against abuse from browsers and anonymous callers: oversized documents,
// deep nesting, readiness detail, CORS, content types, writes by GET, security headers and
// introspection.
import { readFileSync } from 'node:fs';
import { Kind, type OperationDefinitionNode, parse, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../../test/helpers/databases.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';

interface Body {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function json(response: Response): Promise<Body> {
  return (await response.json()) as Body;
}

const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: __typename`).join(' ')} }`;

describe.each(databaseKinds)('document limits on %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(() => server?.close());

  it('refuses 12,000 aliases before parsing, while a concurrent cheap request is answered', async () => {
    const [big, cheap] = await Promise.all([server.post({ query: aliases(12_000) }), server.post({ query: '{ __typename }' })]);
    const refused = await json(big);
    expect(refused.data ?? null).toBeNull();
    expect(refused.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_LARGE');
    expect(refused.errors?.[0]?.message).toMatch(/more than 100 aliases/);
    expect(await json(cheap)).toEqual({ data: { __typename: 'Query' } });
    // Just under the limit is fine.
    const ok = await json(await server.post({ query: aliases(100) }));
    expect(ok.errors).toBeUndefined();
  });

  it('refuses documents with too many tokens or repeated fields, typed', async () => {
    const repeated = `{ ${'__typename '.repeat(50_000)}}`;
    const body = await json(await server.post({ query: repeated }));
    expect(body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_LARGE');
    const tokens = `query Q(${Array.from({ length: 6000 }, (_, i) => `$v${i}: Int`).join(' ')}) { __typename }`;
    const tooMany = await json(await server.post({ query: tokens }));
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_LARGE');
    expect(tooMany.errors?.[0]?.message).toMatch(/more than 10000 tokens/);
  });

  it('refuses selection sets 10,000 deep and deeply nested literals with a typed error', async () => {
    const depth = 10_000;
    const deepSelection = `${'{ projects '.repeat(depth)}${'}'.repeat(depth)}`;
    const selection = await server.post({ query: deepSelection }, { authorization: `Bearer ${server.adminToken}` });
    const selectionBody = await json(selection);
    expect(selectionBody.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_LARGE');
    expect(selectionBody.errors?.[0]?.message).toMatch(/nesting/);

    const environmentKey = server.demo.environments[0].key;
    for (const literal of [`${'['.repeat(depth)}1${']'.repeat(depth)}`, `${'{a:'.repeat(depth)}1${'}'.repeat(depth)}`]) {
      const response = await server.post({ query: `{ flags(identifier: "u", traits: ${literal}) { name } }` }, { 'x-environment-key': environmentKey });
      const body = await json(response);
      expect(body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_LARGE');
    }
    expect(await server.services.prisma.identity.count({ where: { identifier: 'u' } })).toBe(0);
  });
});

describe.each(databaseKinds)('readiness on %s', (kind) => {
  it('says only "database unavailable" when the database is gone', async () => {
    const server = await startTestServer(kind, { keepDatabase: true });
    try {
      await server.database.db.close();
      const response = await fetch(`${server.url}/ready`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ status: 'database unavailable' });
    } finally {
      await server.app.drain(1000);
      if (server.database.kind === 'postgres') await server.database.dispose().catch(() => {});
    }
  });
});

const Introspect = '{ __schema { queryType { name } } }';
const RecordByGet = '{ flags(identifier: "get-user", recordExposures: true) { name variant } }';

describe.each(databaseKinds)('browsers on %s', (kind) => {
  let server: TestServer;
  let restricted: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
    restricted = await startTestServer(kind, { config: { corsOrigins: ['https://app.example.com'], introspection: false } });
  });
  afterAll(async () => {
    await server?.close();
    await restricted?.close();
  });

  it('answers CORS with * and no credentials by default, and only listed origins when set', async () => {
    const preflight = await fetch(`${server.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
    const simple = await server.post({ query: '{ __typename }' }, { origin: 'https://evil.example' });
    expect(simple.headers.get('access-control-allow-origin')).toBe('*');
    expect(simple.headers.get('access-control-allow-credentials')).toBeNull();

    const listed = await restricted.post({ query: '{ __typename }' }, { origin: 'https://app.example.com' });
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(listed.headers.get('access-control-allow-credentials')).toBeNull();
    const other = await restricted.post({ query: '{ __typename }' }, { origin: 'https://evil.example' });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const otherPreflight = await fetch(`${restricted.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(otherPreflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('executes only JSON POST bodies: others get 415 and change nothing', async () => {
    const mutation = JSON.stringify({ query: 'mutation { createProject(input: { name: "by_form" }) { __typename } }' });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/graphql']) {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': type, authorization: `Bearer ${server.adminToken}` },
        body: type === 'application/graphql' ? 'mutation { createProject(input: { name: "by_form" }) { __typename } }' : mutation,
      });
      expect({ type, status: response.status }).toEqual({ type, status: 415 });
    }
    const none = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${server.adminToken}` }, body: mutation });
    expect(none.status).toBe(415);
    expect(await server.services.prisma.project.count({ where: { name: 'by_form' } })).toBe(0);
    for (const type of ['application/json; charset=utf-8', 'application/graphql-response+json']) {
      const response = await server.post({ query: '{ __typename }' }, { 'content-type': type });
      expect({ type, status: response.status }).toEqual({ type, status: 200 });
    }
  });

  it('refuses a GET that would record exposures with 405 and records nothing', async () => {
    const environmentKey = server.demo.environments[0].key;
    const url = `${server.url}/graphql?query=${encodeURIComponent(RecordByGet)}`;
    const response = await fetch(url, { headers: { 'x-environment-key': environmentKey, accept: 'application/json' } });
    expect(response.status).toBe(405);
    const body = await json(response);
    expect(body.errors?.[0]?.extensions?.code).toBe('METHOD_NOT_ALLOWED');
    expect(await server.services.prisma.exposure.count({ where: { identity: { identifier: 'get-user' } } })).toBe(0);
    const read = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ flags(identifier: "get-user") { name } }')}`, {
      headers: { 'x-environment-key': environmentKey, accept: 'application/json' },
    });
    expect(read.status).toBe(200);
    const posted = await server.post({ query: RecordByGet }, { 'x-environment-key': environmentKey });
    expect((await json(posted)).errors).toBeUndefined();
    expect(await server.services.prisma.exposure.count({ where: { identity: { identifier: 'get-user' } } })).toBeGreaterThan(0);
  });

  it('sends security headers with GraphiQL and its assets', async () => {
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    const asset = await fetch(`${server.url}/graphiql/yoga-graphiql.js`);
    for (const response of [page, asset]) {
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("default-src 'self'");
      expect(csp).not.toMatch(/https?:|\*/);
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    }
    expect(await page.text()).not.toMatch(/<script>/);
  });

  it('lets INTROSPECTION be turned off for client keys and anonymous callers; tokens keep it', async () => {
    const environmentKey = restricted.demo.environments[0].key;
    for (const headers of [{ 'x-environment-key': environmentKey }, {}] as Record<string, string>[]) {
      const body = await json(await restricted.post({ query: Introspect }, headers));
      expect(body.data ?? null).toBeNull();
      expect(body.errors?.[0]?.extensions?.code).toBe('INTROSPECTION_DISABLED');
    }
    const asToken = await json(await restricted.post({ query: Introspect }, { authorization: `Bearer ${restricted.analyticsToken}` }));
    expect(asToken.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const typename = await json(await restricted.post({ query: '{ __typename }' }, { 'x-environment-key': environmentKey }));
    expect(typename.data).toEqual({ __typename: 'Query' });
    // On by default.
    const byDefault = await json(await server.post({ query: Introspect }, { 'x-environment-key': server.demo.environments[0].key }));
    expect(byDefault.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });
});

const AdminTree = (first: number) => `{
  projects(first: ${first}) { edges { node { name
    features(first: ${first}) { edges { node { name isMultivariate initialValue
      options { key name value defaultWeight priority }
      states { environment { name } enabled effectiveValue weights { key weight overridden } controlWeight }
    } } }
  } } }
}`;

const CLIENT_FIELDS = new Set(['flags', 'flag', 'recordExposure', 'recordExposures']);

/** Every operation in the README's graphql code blocks, with placeholder variables. */
function readmeOperations(): { query: string; variables: Record<string, unknown>; client: boolean }[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);
  return blocks.flatMap((block) =>
    parse(block).definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION).map((operation) => {
      const variables: Record<string, unknown> = {};
      for (const definition of operation.variableDefinitions ?? []) {
        const type = print(definition.type).replace(/[!\[\]]/g, '');
        variables[definition.variable.name.value] =
          type === 'RecordExposureInput'
            ? { feature: 'checkout_button', identifier: 'readme', variantKey: 'control' }
            : type === 'RecordExposuresInput'
              ? { items: [{ feature: 'checkout_button', identifier: 'readme', variantKey: 'control' }] }
              : type === 'JSON'
                ? {}
                : 'UHJvamVjdDox';
      }
      const root = operation.selectionSet.selections[0];
      const client = root.kind === Kind.FIELD && CLIENT_FIELDS.has(root.name.value);
      return { query: print(operation), variables, client };
    }),
  );
}

describe.each(databaseKinds)('query cost on %s', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(() => server?.close());
  const asAdmin = () => ({ authorization: `Bearer ${server.adminToken}` });

  it('follows the page sizes asked for: small pages of a deep admin tree pass, huge ones do not', async () => {
    const small = await json(await server.post({ query: AdminTree(2) }, asAdmin()));
    expect(small.errors).toBeUndefined();
    expect(JSON.stringify(small.data)).toContain('checkout_button');

    const big = await json(await server.post({ query: AdminTree(500) }, asAdmin()));
    expect(big.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    // `first` beyond the cap costs what the cap does.
    const capped = await json(await server.post({ query: AdminTree(1_000_000) }, asAdmin()));
    expect(capped.errors?.[0]?.message).toBe(big.errors?.[0]?.message);
  });

  it('accepts every GraphQL example of the README with the default limits', async () => {
    const operations = readmeOperations();
    expect(operations.length).toBeGreaterThanOrEqual(10);
    for (const { query, variables, client } of operations) {
      const headers = client ? { 'x-environment-key': server.demo.environments[0].key } : asAdmin();
      const body = await json(await server.post({ query, variables }, headers));
      const codes = (body.errors ?? []).map((e) => e.extensions?.code);
      for (const refused of ['QUERY_TOO_COMPLEX', 'QUERY_TOO_LARGE', 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_USER_INPUT']) {
        expect({ query, codes }).not.toEqual({ query, codes: expect.arrayContaining([refused]) });
      }
    }
  });
});
