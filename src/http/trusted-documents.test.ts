// Trusted documents (PERSISTED_OPERATIONS): client keys run only listed documents, by
// `extensions.persistedQuery.sha256Hash` or `documentId`; tokens run anything; an unlisted
// document is refused with a typed error and nothing runs; a bad file stops the start.
import { hash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, readPersistedOperations } from '../config.js';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { globalId } from '../../test/helpers/ids.js';
import { type ExitedEarly, spawnServer } from '../../test/helpers/processes.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import { subscribe } from '../../test/helpers/subscriptions.js';
import { checkPersistedOperations } from './trusted-documents.js';

const TrustedFlags = graphql(`
  query TrustedFlags($identifier: String) {
    flags(identifier: $identifier) { name variant }
  }
`);

const TrustedRecord = graphql(`
  mutation TrustedRecord($input: RecordExposureInput!) {
    recordExposure(input: $input) { __typename ... on RecordExposurePayload { duplicate } }
  }
`);

const TrustedLive = graphql(`
  subscription TrustedLive($identifier: String) {
    flagsChanged(identifier: $identifier) { name variant }
  }
`);

const UntrustedExposures = graphql(`
  query UntrustedExposures($env: ID!) {
    exposures(environmentId: $env) { edges { node { eventId } } }
  }
`);

const documents = [TrustedFlags, TrustedRecord, TrustedLive].map((document) => print(document));
const sha256 = (text: string) => hash('sha256', text, 'hex');
/** As codegen's client preset writes it. */
const map = Object.fromEntries(documents.map((text) => [`sha256:${sha256(text)}`, text]));

function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'flagledger-trusted-')), name);
  writeFileSync(path, text);
  return path;
}

describe.each(databaseKinds)('trusted documents on %s', (kind) => {
  let server: TestServer;
  let key: string;
  let environmentId: string;

  beforeAll(async () => {
    server = await startTestServer(kind, { config: { persistedOperations: readPersistedOperations(tempFile('persisted-documents.json', JSON.stringify(map))) } });
    key = server.demo.environments.find((e) => e.name === 'production')!.key;
    const environment = await server.services.prisma.environment.findUniqueOrThrow({ where: { key } });
    environmentId = globalId('Environment', environment.id);
  });
  afterAll(() => server?.close());

  const post = async (body: Record<string, unknown>, headers: Record<string, string>) => {
    const response = await server.post(body, headers);
    return { status: response.status, ...((await response.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] }) };
  };
  const byHash = (text: string) => ({ persistedQuery: { version: 1, sha256Hash: sha256(text) } });
  const exposuresOf = async () => {
    const { data } = await post({ query: print(UntrustedExposures), variables: { env: environmentId } }, { authorization: `Bearer ${server.adminToken}` });
    return data.exposures.edges as { node: { eventId: string | null } }[];
  };

  it('runs a listed document for a client key, by hash or by documentId, with variables', async () => {
    const viaHash = await post({ extensions: byHash(documents[0]), variables: { identifier: 'trusted-1' } }, { 'x-environment-key': key });
    expect(viaHash.errors).toBeUndefined();
    expect(viaHash.data.flags.find((f: { name: string }) => f.name === 'checkout_button').variant).toMatch(/^(control|variant_a|variant_b)$/);
    const viaDocumentId = await post({ documentId: `sha256:${sha256(documents[0])}`, variables: { identifier: 'trusted-1' } }, { 'x-environment-key': key });
    expect(viaDocumentId.data).toEqual(viaHash.data);

    const recorded = await post(
      { extensions: byHash(documents[1]), variables: { input: { feature: 'checkout_button', identifier: 'trusted-1', variantKey: 'control', eventId: 'trusted-event-1' } } },
      { 'x-environment-key': key },
    );
    expect(recorded.data.recordExposure).toEqual({ __typename: 'RecordExposurePayload', duplicate: false });
  });

  it('refuses an unlisted document from a client key with a typed error, and runs nothing of it', async () => {
    const before = await exposuresOf();
    const text = print(TrustedRecord).replace('duplicate', 'duplicate exposure { id }');
    const unlisted = await post(
      { query: text, variables: { input: { feature: 'checkout_button', identifier: 'intruder', variantKey: 'control', eventId: 'unlisted-event' } } },
      { 'x-environment-key': key },
    );
    expect(unlisted.status).toBe(400);
    expect(unlisted.data).toBeUndefined();
    expect(unlisted.errors![0].extensions!.code).toBe('PERSISTED_QUERY_ONLY');
    // A listed document's text sent as text is not its id: still refused.
    const asText = await post({ query: documents[0], variables: { identifier: 'x' } }, { 'x-environment-key': key });
    expect(asText.errors![0].extensions!.code).toBe('PERSISTED_QUERY_ONLY');
    const unknownHash = await post({ extensions: byHash(text), variables: {} }, { 'x-environment-key': key });
    expect(unknownHash.errors![0].extensions!.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const unknownId = await post({ documentId: 'sha256:0000', variables: {} }, { 'x-environment-key': key });
    expect(unknownId.errors![0].extensions!.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    // Anonymous callers are held to the list too; bad credentials are told they are bad.
    const anonymous = await post({ query: '{ viewer { kind } }' }, {});
    expect(anonymous.errors![0].extensions!.code).toBe('PERSISTED_QUERY_ONLY');
    const badKey = await post({ query: documents[0], variables: { identifier: 'x' } }, { 'x-environment-key': 'env_unknown' });
    expect(badKey.errors![0].extensions!.code).toBe('UNAUTHENTICATED');
    expect(await exposuresOf()).toEqual(before);
    expect(before.map((e) => e.node.eventId)).not.toContain('unlisted-event');
  });

  it('lets tokens send any document', async () => {
    const list = await exposuresOf();
    expect(list.map((e) => e.node.eventId)).toContain('trusted-event-1');
    const viewer = await post({ query: '{ viewer { kind } }' }, { authorization: `Bearer ${server.analyticsToken}` });
    expect(viewer.data).toEqual({ viewer: { kind: 'token' } });
  });

  it('holds subscriptions to the list: a listed one streams, an unlisted one is refused', async () => {
    const live = subscribe(server.url, { extensions: byHash(documents[2]) }, { identifier: 'trusted-live' }, { 'x-environment-key': key });
    try {
      const first = await live.next();
      expect(first.errors).toBeUndefined();
      expect((first.data as { flagsChanged: { name: string }[] }).flagsChanged.map((f) => f.name)).toContain('checkout_button');
    } finally {
      live.close();
    }
    const refused = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-environment-key': key },
      body: JSON.stringify({ query: 'subscription { flagsChanged { name value } }' }),
    });
    expect(await refused.text()).toContain('PERSISTED_QUERY_ONLY');
    expect(server.services.liveFlags.size).toBe(0);
  });
});

describe('PERSISTED_OPERATIONS files', () => {
  const problem = (text: string) => {
    try {
      readPersistedOperations(tempFile('map.json', text));
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    return 'accepted';
  };

  it('refuses what is not a map of hashes to documents that parse, naming the problem', () => {
    expect(() => readPersistedOperations('/nonexistent/persisted.json')).toThrow(/PERSISTED_OPERATIONS \(\/nonexistent\/persisted.json\) cannot be read/);
    expect(problem('{ not json')).toMatch(/is not JSON/);
    expect(problem('["query { viewer { kind } }"]')).toMatch(/must be a JSON object/);
    expect(problem('{ "abc": 42 }')).toMatch(/the document of abc is not a string/);
    expect(problem('{ "abc": "query {" }')).toMatch(/the document of abc does not parse/);
    expect(problem('{ "a b": "{ viewer { kind } }" }')).toMatch(/is not a document hash/);
    expect(problem('{ "sha256:abc": "{ viewer { kind } }" }')).toBe('accepted');
  });

  it("refuses documents this server's schema does not accept", () => {
    const operations = readPersistedOperations(tempFile('map.json', JSON.stringify({ stale: '{ flags { name removedField } }' })));
    expect(() => checkPersistedOperations(operations)).toThrow(/the document of stale is not valid against this server's schema: .*removedField/);
  });

  it('stops the server at start with a clear message', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'flagledger-trusted-start-'));
    const failure = await spawnServer({ DATA_DIR: dataDir, PERSISTED_OPERATIONS: tempFile('broken.json', '{ "abc": ') }).then(
      () => undefined,
      (error: ExitedEarly) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.output).toMatch(/flagledger could not start: PERSISTED_OPERATIONS \(.*broken\.json\) is not JSON/);
  }, 120_000);
});
