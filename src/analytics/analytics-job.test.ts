import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAnalyticsJob } from '../../examples/analytics-job.js';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { RecordExposures as RecordForJob } from '../../test/helpers/documents.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import { globalId } from '../../test/helpers/ids.js';
import { createFixtureExperiment, type FixtureExposure, writeExposures } from '../../test/helpers/analytics-fixtures.js';

const JobSummary = graphql(`
  query AnalyticsJobSummary($environmentId: ID!, $feature: String!) {
    experimentSummary(environmentId: $environmentId, feature: $feature) {
      variants { variantKey exposures }
    }
  }
`);

const DemoSummary = graphql(`
  query AnalyticsDemoSummary($environmentId: ID!, $feature: String!) {
    experimentSummary(environmentId: $environmentId, feature: $feature) {
      totalIdentities
      conflictedIdentities
      variants { variantKey exposures identities }
    }
  }
`);

const T0 = Date.parse('2026-06-01T00:00:00.000Z');

describe.each(databaseKinds)('examples/analytics-job.ts against a server on %s', (kind) => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    server = await startTestServer(kind);
    dir = await mkdtemp(join(tmpdir(), 'flagledger-job-'));
  });
  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('counts what experimentSummary counts, and resumes from the last exposure it saw', async () => {
    const experiment = await createFixtureExperiment(server.services.prisma, {
      projectName: 'Job',
      featureName: 'checkout_button',
      options: [
        { key: 'variant_a', defaultWeight: 34 },
        { key: 'variant_b', defaultWeight: 33 },
      ],
    });
    const batch = (from: number, count: number): FixtureExposure[] =>
      Array.from({ length: count }, (_, i) => ({
        identifier: `user-${(from + i) % 37}`,
        variantKey: ['variant_a', 'variant_b', 'control', 'variant_a'][(from + i) % 4],
        exposedAt: new Date(T0 + (from + i) * 1000),
      }));
    const perVariant = async () => {
      const { experimentSummary } = await server.data(
        JobSummary,
        { environmentId: experiment.environmentGlobalId, feature: experiment.featureName },
        { token: server.analyticsToken },
      );
      return Object.fromEntries(experimentSummary.variants.filter((v) => v.exposures > 0).map((v) => [v.variantKey, v.exposures]));
    };
    const stateFile = join(dir, 'state.json');
    const options = {
      serverUrl: server.url,
      token: server.analyticsToken,
      environmentId: experiment.environmentGlobalId,
      feature: experiment.featureName,
      stateFile,
      pageSize: 7,
    };

    await writeExposures(server.services.prisma, experiment, batch(0, 50));
    const first = await runAnalyticsJob(options);
    expect(first.processed).toBe(50);
    expect(first.counts).toEqual(await perVariant());
    expect(first.counts).toEqual({ variant_a: 25, variant_b: 13, control: 12 });

    await writeExposures(server.services.prisma, experiment, batch(50, 23));
    const seen: string[] = [];
    const second = await runAnalyticsJob({ ...options, onRows: (rows) => void seen.push(...rows.map((r) => r.databaseId)) });
    // Only the new exposures were read; the tally still matches the server's.
    expect(second.processed).toBe(23);
    expect(new Set(seen).size).toBe(23);
    expect(second.counts).toEqual(await perVariant());
    const saved = JSON.parse(await readFile(stateFile, 'utf8'));
    expect(saved).toEqual({ after: second.after, counts: second.counts });

    const idle = await runAnalyticsJob(options);
    expect(idle.processed).toBe(0);
    expect(idle.counts).toEqual(second.counts);
  });

  it('gets the numbers experimentSummary shows for the demo data recorded through recordExposures', async () => {
    const [development] = server.demo.environments;
    const environment = await server.services.prisma.environment.findFirstOrThrow({ where: { key: development.key } });
    const environmentId = globalId('Environment', environment.id);
    const keys = ['variant_a', 'variant_b', 'control'];
    const recent = Date.now() - 3_600_000;
    for (let batch = 0; batch < 3; batch++) {
      const exposures = Array.from({ length: 40 }, (_, i) => ({
        feature: 'checkout_button',
        identifier: `demo-${(batch * 40 + i) % 45}`,
        // Mostly one key per identity, some conflicting ones, and late (earlier) events.
        variantKey: keys[(batch * 40 + i) % 45 % 3 === 0 && batch === 2 ? (i + 1) % 3 : ((batch * 40 + i) % 45) % 3],
        exposedAt: new Date(recent - (batch === 2 ? 600_000 : 0) + i * 1000).toISOString(),
      }));
      const { recordExposures } = await server.data(RecordForJob, { input: { exposures } }, { environmentKey: development.key });
      expect(recordExposures).toMatchObject({ __typename: 'RecordExposuresPayload', accepted: 40, rejected: 0 });
    }
    const job = await runAnalyticsJob({ serverUrl: server.url, token: server.analyticsToken, environmentId, feature: 'checkout_button', pageSize: 25 });
    const { experimentSummary: summary } = await server.data(DemoSummary, { environmentId, feature: 'checkout_button' }, { token: server.analyticsToken });
    expect(job.processed).toBe(120);
    expect(job.counts).toEqual(Object.fromEntries(summary.variants.filter((v) => v.exposures > 0).map((v) => [v.variantKey, v.exposures])));

    // And the identities the recorder's Assignment rows give equal a recount from the raw rows.
    const rows = await server.services.prisma.exposure.findMany({ where: { environmentId: environment.id }, orderBy: { id: 'asc' } });
    const byIdentity = new Map<number, typeof rows>();
    for (const row of rows) byIdentity.set(row.identityId, [...(byIdentity.get(row.identityId) ?? []), row]);
    const firsts = new Map<string, number>();
    let conflicted = 0;
    for (const own of byIdentity.values()) {
      const first = [...own].sort((a, b) => a.exposedAt.getTime() - b.exposedAt.getTime() || Number(a.id - b.id))[0];
      firsts.set(first.variantKey, (firsts.get(first.variantKey) ?? 0) + 1);
      if (new Set(own.map((r) => r.variantKey)).size > 1) conflicted += 1;
    }
    expect(summary.totalIdentities).toBe(byIdentity.size);
    expect(summary.conflictedIdentities).toBe(conflicted);
    expect(conflicted).toBeGreaterThan(0);
    for (const variant of summary.variants) expect(variant.identities).toBe(firsts.get(variant.variantKey) ?? 0);
  });

  it('reports the server error when the token may not read exposures', async () => {
    const { environments } = server.demo;
    const environment = await server.services.prisma.environment.findFirstOrThrow({ where: { key: environments[0].key } });
    await expect(
      runAnalyticsJob({
        serverUrl: server.url,
        token: 'flt_not_a_token',
        environmentId: globalId('Environment', environment.id),
      }),
    ).rejects.toThrow(/UNAUTHENTICATED/);
  });
});
