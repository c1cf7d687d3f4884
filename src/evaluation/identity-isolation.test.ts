// Identity writes of concurrent `flags` requests share a statement: one caller's bad input (or
// a row the database refuses) must fail that caller alone, never the others.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { CreateProject as NewProject } from '../../test/helpers/documents.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';

const Flags = graphql(`
  query IdentityIsolationFlags($identifier: String, $traits: JSON) {
    flags(identifier: $identifier, traits: $traits) { name enabled }
  }
`);

describe.each(databaseKinds)('identity writes of concurrent flags requests on %s', (kind) => {
  let server: TestServer;
  let offenderKey: string;
  let innocentKey: string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    offenderKey = server.demo.environments[0].key;
    const created = (await server.data(NewProject, { input: { name: 'innocent-bystanders' } })).createProject;
    if (created.__typename !== 'CreateProjectPayload') throw new Error(JSON.stringify(created));
    innocentKey = created.project.environments[0].key;
  });
  afterAll(() => server?.close());

  const innocents = (round: number) =>
    Array.from({ length: 12 }, (_, i) =>
      server.request(Flags, { identifier: `innocent-${round}-${i}`, traits: { plan: 'pro', n: i } }, { environmentKey: innocentKey }),
    );

  it('refuses NUL and lone surrogates in traits with INVALID_INPUT, and innocent requests of another project all succeed', async () => {
    const offending = [{ plan: 'a\u0000b' }, { 'pl\u0000an': 'x' }, { plan: '\ud800' }, { ['\udc00']: 1 }];
    for (const [round, traits] of offending.entries()) {
      const [offender, ...others] = await Promise.all([
        server.request(Flags, { identifier: `offender-${round}`, traits }, { environmentKey: offenderKey }),
        ...innocents(round),
      ]);
      expect(offender.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
      for (const other of others) {
        expect(other.errors).toBeUndefined();
        expect(Array.isArray(other.data?.flags)).toBe(true);
      }
    }
    expect(await server.services.prisma.identity.count({ where: { identifier: { startsWith: 'offender-' } } })).toBe(0);
    expect(await server.services.prisma.identity.count({ where: { identifier: { startsWith: 'innocent-' } } })).toBe(offending.length * 12);
  });

  it('when the database refuses one identity of a shared statement, writes the others', async () => {
    await server.services.prisma.$executeRawUnsafe(`
      CREATE FUNCTION identity_isolation_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.identifier = 'refused-by-database' THEN RAISE EXCEPTION 'refused by test trigger'; END IF;
        RETURN NEW;
      END $$`);
    await server.services.prisma.$executeRawUnsafe(
      `CREATE TRIGGER identity_isolation_refuse BEFORE INSERT OR UPDATE ON "Identity" FOR EACH ROW EXECUTE FUNCTION identity_isolation_refuse()`,
    );
    try {
      const statementsBefore = server.counters.identityStatements;
      const [offender, ...others] = await Promise.all([
        server.request(Flags, { identifier: 'refused-by-database', traits: { plan: 'x' } }, { environmentKey: offenderKey }),
        ...innocents(100),
      ]);
      expect(offender.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      for (const other of others) expect(other.errors).toBeUndefined();
      expect(await server.services.prisma.identity.count({ where: { identifier: { startsWith: 'innocent-100-' } } })).toBe(12);
      // They did share a statement, which failed and was split.
      expect(server.counters.identityStatements - statementsBefore).toBeGreaterThan(1);
    } finally {
      await server.services.prisma.$executeRawUnsafe(`DROP TRIGGER identity_isolation_refuse ON "Identity"`);
      await server.services.prisma.$executeRawUnsafe(`DROP FUNCTION identity_isolation_refuse()`);
    }
  });
});
