import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../../test/helpers/databases.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import { hashSecret, newTokenSecret } from '../auth/credentials.js';
import { EXPORT_COLUMNS, EXPORT_PAGE_SIZE } from '../http/exposure-export.js';
import { createFixtureExperiment, type FixtureExperiment, type FixtureExposure, writeExposures } from '../../test/helpers/analytics-fixtures.js';
import { globalId } from '../../test/helpers/ids.js';

const T0 = Date.parse('2026-05-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);

interface NdjsonRow {
  id: number;
  environmentId: number;
  feature: string;
  variantKey: string;
  identifier: string;
  exposedAt: string;
  receivedAt: string;
  source: string;
  matchesAssignment: boolean;
  eventId: string | null;
}

describe.each(databaseKinds)('GET /exports/exposures on %s', (kind) => {
  let server: TestServer;
  let experiment: FixtureExperiment;
  let otherFeatureId: number;

  const get = (query: Record<string, string | undefined>, headers: Record<string, string> = { authorization: `Bearer ${server.analyticsToken}` }) => {
    const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined));
    return fetch(`${server.url}/exports/exposures?${params}`, { headers });
  };
  const ndjson = async (query: Record<string, string | undefined>) => {
    const response = await get(query);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const text = await response.text();
    return text === '' ? [] : text.trimEnd().split('\n').map((line) => JSON.parse(line) as NdjsonRow);
  };

  beforeAll(async () => {
    server = await startTestServer(kind);
    experiment = await createFixtureExperiment(server.services.prisma, {
      projectName: 'Export',
      featureName: 'checkout',
      options: [
        { key: 'a', defaultWeight: 50 },
        { key: 'b', defaultWeight: 50 },
      ],
    });
    otherFeatureId = (
      await server.services.prisma.feature.create({ data: { projectId: experiment.projectId, name: 'banner', initialValue: 'x' } })
    ).id;
    const rows: FixtureExposure[] = [];
    // More than one export page, so the keyset paging is crossed.
    for (let i = 0; i < EXPORT_PAGE_SIZE + 120; i++) {
      rows.push({ identifier: `user-${i % 400}`, variantKey: ['a', 'b', 'control'][i % 3], exposedAt: at(i), eventId: i === 0 ? 'evt-0' : null });
    }
    rows.push({ identifier: 'quote "me", please', variantKey: 'a', exposedAt: at(-1), source: 'SERVER', matchesAssignment: false });
    await writeExposures(server.services.prisma, experiment, rows);
    await writeExposures(server.services.prisma, { environmentId: experiment.environmentId, featureId: otherFeatureId }, [
      { identifier: 'user-1', variantKey: 'control', exposedAt: at(3) },
      { identifier: 'user-2', variantKey: 'control', exposedAt: at(4) },
    ]);
  });
  afterAll(() => server?.close());

  it('streams every exposure of the environment in id order as NDJSON, and resumes after an id', async () => {
    const stored = await server.services.prisma.exposure.findMany({
      where: { environmentId: experiment.environmentId },
      orderBy: { id: 'asc' },
      include: { identity: true, feature: true },
    });
    const all = await ndjson({ environment: experiment.environmentGlobalId });
    expect(all).toHaveLength(EXPORT_PAGE_SIZE + 123);
    expect(all.map((r) => r.id)).toEqual(stored.map((s) => Number(s.id)));
    const first = stored[0];
    expect(all[0]).toEqual({
      id: Number(first.id),
      environmentId: experiment.environmentId,
      feature: 'checkout',
      variantKey: first.variantKey,
      identifier: first.identity.identifier,
      exposedAt: first.exposedAt.toISOString(),
      receivedAt: first.receivedAt.toISOString(),
      source: first.source,
      matchesAssignment: first.matchesAssignment,
      eventId: first.eventId,
    });

    const checkout = await ndjson({ environment: experiment.environmentGlobalId, feature: 'checkout' });
    expect(checkout).toHaveLength(EXPORT_PAGE_SIZE + 121);
    expect(new Set(checkout.map((r) => r.feature))).toEqual(new Set(['checkout']));
    expect(await ndjson({ environment: experiment.environmentGlobalId, feature: 'banner' })).toHaveLength(2);

    // An incremental job: the first 4000 rows seen, then resume from the last id.
    const resumed = await ndjson({ environment: experiment.environmentGlobalId, after: String(all[3999].id) });
    expect(resumed.map((r) => r.id)).toEqual(all.slice(4000).map((r) => r.id));
    expect(await ndjson({ environment: experiment.environmentGlobalId, after: String(all.at(-1)!.id) })).toEqual([]);
  });

  it('writes CSV with a header row first, quoted by the CSV writer', async () => {
    const response = await get({ environment: experiment.environmentGlobalId, format: 'csv' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await response.text()).trimEnd().split('\n');
    expect(lines[0]).toBe(EXPORT_COLUMNS.join(','));
    expect(lines).toHaveLength(1 + EXPORT_PAGE_SIZE + 123);
    const quoted = lines.find((line) => line.includes('please'));
    expect(quoted).toMatch(/^\d+,\d+,checkout,a,"quote ""me"", please",[^,]+Z,[^,]+Z,SERVER,false,$/);
    expect(lines.filter((line) => line.endsWith(',evt-0'))).toHaveLength(1);

    const empty = await get({ environment: experiment.environmentGlobalId, format: 'csv', after: '999999999' });
    expect(await empty.text()).toBe(`${EXPORT_COLUMNS.join(',')}\n`);
  });

  it('answers 401 without valid credentials, 403 without the right, 400 for bad parameters, 404 for unknown ones', async () => {
    const environment = experiment.environmentGlobalId;
    const status = async (query: Record<string, string | undefined>, headers?: Record<string, string>) => {
      const response = await get(query, headers);
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
      return [response.status, body.errors[0].extensions.code];
    };
    expect(await status({ environment }, {})).toEqual([401, 'UNAUTHENTICATED']);
    expect(await status({ environment }, { authorization: 'Bearer flt_unknown' })).toEqual([401, 'UNAUTHENTICATED']);
    expect(await status({ environment }, { authorization: 'Basic abc' })).toEqual([401, 'UNAUTHENTICATED']);
    expect(await status({ environment }, { 'x-environment-key': server.demo.environments[0].key })).toEqual([403, 'FORBIDDEN']);
    // A token without ANALYTICS or ADMIN (the API never makes one; the database can hold one).
    const secret = newTokenSecret();
    await server.services.prisma.apiToken.create({ data: { name: 'no scopes', scopes: [], tokenHash: hashSecret(secret) } });
    expect(await status({ environment }, { authorization: `Bearer ${secret}` })).toEqual([403, 'FORBIDDEN']);

    expect(await status({})).toEqual([400, 'INVALID_INPUT']);
    // An id that names no environment is one that does not exist.
    expect(await status({ environment: 'garbage' })).toEqual([404, 'NOT_FOUND']);
    expect(await status({ environment: globalId('Project', experiment.projectId) })).toEqual([404, 'NOT_FOUND']);
    expect(await status({ environment, after: '-1' })).toEqual([400, 'INVALID_INPUT']);
    expect(await status({ environment, after: 'abc' })).toEqual([400, 'INVALID_INPUT']);
    expect(await status({ environment, format: 'xml' })).toEqual([400, 'INVALID_INPUT']);
    expect(await status({ environment: globalId('Environment', 99999) })).toEqual([404, 'NOT_FOUND']);
    expect(await status({ environment, feature: 'nope' })).toEqual([404, 'FEATURE_NOT_FOUND']);

    const admin = await get({ environment, feature: 'banner' }, { authorization: `Bearer ${server.adminToken}` });
    expect(admin.status).toBe(200);
    expect((await admin.text()).trimEnd().split('\n')).toHaveLength(2);
  });

  it('survives a client that goes away in the middle of an export', async () => {
    const controller = new AbortController();
    const response = await fetch(`${server.url}/exports/exposures?environment=${encodeURIComponent(experiment.environmentGlobalId)}`, {
      headers: { authorization: `Bearer ${server.analyticsToken}` },
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.read().catch(() => undefined);
    // The server is fine and the next export is complete.
    expect(await ndjson({ environment: experiment.environmentGlobalId, feature: 'banner' })).toHaveLength(2);
  });
});
