// The last active ADMIN token cannot be revoked, however the revocations race.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';

const LastAdminTokens = graphql(`
  query LastAdminTokens { apiTokens { id scopes revokedAt } }
`);

const LastAdminCreate = graphql(`
  mutation LastAdminCreate($name: String!) {
    createApiToken(input: { name: $name, scopes: [ADMIN] }) {
      __typename
      ... on CreateApiTokenPayload { secret token { id } }
      ... on Error { code message }
    }
  }
`);

const LastAdminRevoke = graphql(`
  mutation LastAdminRevoke($id: ID!) {
    revokeApiToken(input: { id: $id }) {
      __typename
      ... on RevokeApiTokenPayload { token { id revokedAt } }
      ... on Error { code message }
    }
  }
`);

describe.each(databaseKinds)('last admin token on %s', (kind) => {
  let server: TestServer;
  /** The one active ADMIN token once the first test has run. */
  let admin: { id: string; secret: string };
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(() => server?.close());

  async function activeAdmins(secret: string) {
    const { apiTokens } = await server.data(LastAdminTokens, {}, { token: secret });
    return apiTokens.filter((t) => t.scopes.includes('ADMIN') && !t.revokedAt).map((t) => t.id);
  }

  async function createAdmin(secret: string, name: string) {
    const { createApiToken } = await server.data(LastAdminCreate, { name }, { token: secret });
    if (createApiToken.__typename !== 'CreateApiTokenPayload') throw new Error(`expected a token: ${JSON.stringify(createApiToken)}`);
    return { id: createApiToken.token.id, secret: createApiToken.secret };
  }

  it('refuses to revoke the only active ADMIN token with LAST_ADMIN_TOKEN, and the token keeps working', async () => {
    const [only] = await activeAdmins(server.adminToken);
    expect(await activeAdmins(server.adminToken)).toHaveLength(1);
    const refused = await server.data(LastAdminRevoke, { id: only });
    expect(refused.revokeApiToken).toMatchObject({ __typename: 'ValidationError', code: 'LAST_ADMIN_TOKEN' });
    expect(await activeAdmins(server.adminToken)).toEqual([only]);

    // With a second admin token it can go.
    const second = await createAdmin(server.adminToken, 'second admin');
    const revoked = await server.data(LastAdminRevoke, { id: only });
    expect(revoked.revokeApiToken).toMatchObject({ __typename: 'RevokeApiTokenPayload', token: { id: only } });
    expect(await activeAdmins(second.secret)).toEqual([second.id]);
    admin = second;
  });

  it('lets exactly one of two concurrent revocations of the last two admin tokens win', async () => {
    let survivor = admin;
    for (let round = 0; round < 8; round++) {
      const a = await createAdmin(survivor.secret, `a${round}`);
      const b = await createAdmin(survivor.secret, `b${round}`);
      expect((await server.data(LastAdminRevoke, { id: survivor.id }, { token: a.secret })).revokeApiToken.__typename).toBe(
        'RevokeApiTokenPayload',
      );
      // Each revokes the other, both at once. The loser is refused LAST_ADMIN_TOKEN, or, if
      // the winner committed before it was even authenticated, UNAUTHENTICATED.
      const [byB, byA] = await Promise.all([
        server.request(LastAdminRevoke, { id: a.id }, { token: b.secret }),
        server.request(LastAdminRevoke, { id: b.id }, { token: a.secret }),
      ]);
      const outcome = (r: typeof byA) => {
        const payload = r.data?.revokeApiToken;
        if (!payload) return r.errors?.[0]?.extensions?.code === 'UNAUTHENTICATED' ? 'lost' : JSON.stringify(r);
        if (payload.__typename === 'RevokeApiTokenPayload') return 'won';
        return 'code' in payload && payload.code === 'LAST_ADMIN_TOKEN' ? 'lost' : JSON.stringify(payload);
      };
      expect([outcome(byB), outcome(byA)].sort()).toEqual(['lost', 'won']);
      survivor = outcome(byB) === 'lost' ? a : b;
      expect(await activeAdmins(survivor.secret)).toEqual([survivor.id]);
    }
  });
});
