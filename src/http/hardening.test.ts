// The HTTP surface against abuse from browsers and anonymous callers: oversized documents,
// deep nesting, readiness detail, CORS, content types, writes by GET, security headers and
// introspection.
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
