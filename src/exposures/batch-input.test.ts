// What a batch may carry: an invalid exposedAt rejects its own item only, and a full batch of
// the largest items fits the default body limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { RecordExposures as RecordBatch, RecordExposure as RecordOne } from '../../test/helpers/documents.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import { EVENT_ID_MAX_LENGTH, MAX_BATCH_SIZE } from './normalise.js';

const Exposures = graphql(`
  query BatchInputExposures($environmentId: ID!, $from: DateTime, $to: DateTime) {
    exposures(environmentId: $environmentId, from: $from, to: $to, first: 1) { edges { node { id } } }
  }
`);

const Environments = graphql(`
  query BatchInputEnvironments {
    projects(first: 10) { edges { node { name environments { id name } } } }
  }
`);

describe.each(databaseKinds)('recordExposures input on %s', (kind) => {
  let server: TestServer;
  let environmentKey: string;
  const client = () => ({ environmentKey });

  beforeAll(async () => {
    server = await startTestServer(kind);
    environmentKey = server.demo.environments.find((e) => e.name === 'development')!.key;
  });
  afterAll(() => server?.close());

  const item = (identifier: string, exposedAt?: string) => ({ feature: 'checkout_button', identifier, variantKey: 'control', exposedAt });

  it('rejects only the item whose exposedAt is no valid timestamp (INVALID_TIMESTAMP), recording the others', async () => {
    const valid = new Date(Date.now() - 60_000).toISOString();
    const bad = ['2026-13-45', '2026-13-45T00:00:00Z', '10000-01-01T00:00:00Z', 'yesterday', ''];
    const exposures = [item('ts-0', valid), ...bad.map((at, i) => item(`ts-bad-${i}`, at)), item('ts-last')];
    const answer = (await server.data(RecordBatch, { input: { exposures } }, client())).recordExposures;
    if (answer.__typename !== 'RecordExposuresPayload') throw new Error(JSON.stringify(answer));
    expect(answer).toMatchObject({ accepted: 2, rejected: bad.length, duplicates: 0 });
    expect(answer.results[0]).toMatchObject({ status: 'ACCEPTED', exposure: { exposedAt: valid } });
    bad.forEach((_, i) =>
      expect(answer.results[i + 1]).toMatchObject({ status: 'REJECTED', error: { code: 'INVALID_TIMESTAMP', path: ['exposures', String(i + 1), 'exposedAt'] } }),
    );
    expect(answer.results.at(-1)).toMatchObject({ status: 'ACCEPTED' });
    expect(await server.services.prisma.identity.count({ where: { identifier: { startsWith: 'ts-bad-' } } })).toBe(0);

    // The same written as literals in the document (no variables).
    const literal = await server.post(
      {
        query: `mutation { recordExposures(input: { exposures: [
          { feature: "checkout_button", identifier: "lit-ok", variantKey: "control" },
          { feature: "checkout_button", identifier: "lit-bad", variantKey: "control", exposedAt: "2026-13-45" }
        ] }) { ... on RecordExposuresPayload { accepted rejected results { status error { code } } } } }`,
      },
      { 'x-environment-key': environmentKey },
    );
    expect(literal.status).toBe(200);
    expect(((await literal.json()) as { data: unknown }).data).toEqual({
      recordExposures: { accepted: 1, rejected: 1, results: [{ status: 'ACCEPTED', error: null }, { status: 'REJECTED', error: { code: 'INVALID_TIMESTAMP' } }] },
    });

    const single = (await server.data(RecordOne, { input: item('ts-single', '2026-02-30T10:00:00Z') }, client())).recordExposure;
    expect(single).toMatchObject({ __typename: 'ValidationError', code: 'INVALID_TIMESTAMP', path: ['exposedAt'] });
  });

  it('refuses an invalid time window of the analytics queries with INVALID_TIMESTAMP', async () => {
    const projects = (await server.data(Environments)).projects.edges;
    const environmentId = projects.find((p) => p.node.name === 'Demo')!.node.environments[0].id;
    for (const window of [{ from: '2026-13-45' }, { to: '10000-01-01T00:00:00Z' }]) {
      const answer = await server.request(Exposures, { environmentId, ...window });
      expect(answer.errors?.[0]?.extensions?.code).toBe('INVALID_TIMESTAMP');
    }
    expect((await server.request(Exposures, { environmentId, from: '2026-01-01T00:00:00Z' })).errors).toBeUndefined();
  });

  it('takes a full batch of the largest items within the default body limit', async () => {
    expect(server.services.config.bodyLimitBytes).toBe(loadConfig({}).bodyLimitBytes);
    const pad = (prefix: string, fill: string, length: number) => prefix + fill.repeat((length - prefix.length) / fill.length);
    // ASCII, then multi-byte UTF-8 up to the identifier's byte limit (2600) and 3-byte eventIds.
    const batches = [
      Array.from({ length: MAX_BATCH_SIZE }, (_, i) => ({
        feature: 'checkout_button',
        identifier: pad(`big-${String(i).padStart(4, '0')}-`, 'x', 2000),
        variantKey: 'control',
        exposedAt: new Date().toISOString(),
        eventId: pad(`ev-${String(i).padStart(4, '0')}-`, 'y', EVENT_ID_MAX_LENGTH),
      })),
      Array.from({ length: MAX_BATCH_SIZE }, (_, i) => ({
        feature: 'checkout_button',
        identifier: pad(`wide-${String(i).padStart(4, '0')}-`, 'é', 610) + 'x'.repeat(1390),
        variantKey: 'control',
        exposedAt: new Date().toISOString(),
        eventId: pad(`€v-${String(i).padStart(4, '0')}-`, '€', EVENT_ID_MAX_LENGTH),
      })),
    ];
    for (const exposures of batches) {
      expect(exposures.every((e) => e.identifier.length === 2000 && e.eventId.length === EVENT_ID_MAX_LENGTH)).toBe(true);
      const response = await server.request(RecordBatch, { input: { exposures } }, client());
      expect(response.status).toBe(200);
      expect(response.errors).toBeUndefined();
      expect(response.data?.recordExposures).toMatchObject({ accepted: MAX_BATCH_SIZE, rejected: 0 });
    }
  });
});
