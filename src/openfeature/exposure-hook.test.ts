// The example exposure hook (examples/openfeature-exposure-hook.ts) on the stock OpenFeature
// server SDK and OFREP provider against a real server: repeated evaluations, and a second
// process doing the same, record one exposure.
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OpenFeature } from '@openfeature/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExposureHook } from '../../examples/openfeature-exposure-hook.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { CreateFeature, CreateProject } from '../../test/helpers/documents.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';

describe.each(databaseKinds)('OpenFeature exposure hook on %s', (kind) => {
  let server: TestServer;
  let key: string;
  let experimentId: string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    const { createProject } = await server.data(CreateProject, { input: { name: 'Hooked', environments: ['live'] } });
    if (createProject.__typename !== 'CreateProjectPayload') throw new Error(JSON.stringify(createProject));
    key = createProject.project.environments[0].key;
    for (const [name, options] of [
      ['split-flag', [{ key: 'a', value: 'A', defaultWeight: 50, priority: 0 }, { key: 'b', value: 'B', defaultWeight: 50, priority: 1 }]],
      ['split-no-experiment', [{ key: 'c', value: 'C', defaultWeight: 50, priority: 0 }]],
      ['plain-flag', []],
    ] as const) {
      const { createFeature } = await server.data(CreateFeature, {
        input: { projectId: createProject.project.id, name, initialValue: 'x', defaultEnabled: true, options: [...options] },
      });
      if (createFeature.__typename !== 'CreateFeaturePayload') throw new Error(JSON.stringify(createFeature));
    }
    // Only split-flag runs an experiment: the hook records exposures under running experiments.
    const admin = { authorization: `Bearer ${server.adminToken}` };
    const created = (await (
      await server.post(
        {
          query: `mutation($e: ID!) { createExperiment(input: { environmentId: $e, feature: "split-flag", name: "hooked" }) { ... on CreateExperimentPayload { experiment { id } } } }`,
          variables: { e: createProject.project.environments[0].id },
        },
        admin,
      )
    ).json()) as { data: { createExperiment: { experiment: { id: string } } } };
    experimentId = created.data.createExperiment.experiment.id;
    await server.post({ query: `mutation($id: ID!) { startExperiment(input: { id: $id }) { __typename } }`, variables: { id: experimentId } }, admin);
  });
  afterAll(async () => {
    await OpenFeature.clearProviders();
    await server?.close();
  });

  const exposuresOf = (identifier: string) => server.services.prisma.exposure.count({ where: { identity: { identifier } } });

  it('N evaluations of one identity record one exposure, also from a second process; flags outside experiments none', async () => {
    const errors: unknown[] = [];
    const domain = `hook-${kind}`;
    await OpenFeature.setProviderAndWait(domain, new OFREPProvider({ baseUrl: server.url, headers: [['X-API-Key', key]] }));
    // Two hooks with their own queues: two processes of one service.
    for (const round of [0, 1]) {
      const hook = new ExposureHook({ serverUrl: server.url, environmentKey: key, bucket: () => 'session-1', onError: (error) => errors.push(error) });
      const client = OpenFeature.getClient(domain);
      client.addHooks(hook);
      for (let i = 0; i < 5; i++) {
        const details = await client.getStringDetails('split-flag', 'default', { targetingKey: 'hooked-user' });
        expect(details.reason).toBe('SPLIT');
        expect(details.flagMetadata).toMatchObject({ experimentId, experimentIteration: 1 });
        const other = await client.getStringDetails('split-no-experiment', 'default', { targetingKey: 'hooked-user' });
        expect(other.flagMetadata.experimentId).toBeUndefined();
        await client.getStringValue('plain-flag', 'default', { targetingKey: 'hooked-user' });
      }
      await hook.close();
      expect(errors).toEqual([]);
      expect(await exposuresOf('hooked-user'), `after round ${round}`).toBe(1);
    }
    const [exposure] = await server.services.prisma.exposure.findMany({ where: { identity: { identifier: 'hooked-user' } }, include: { feature: true } });
    expect(exposure.feature.name).toBe('split-flag');
    expect(exposure.iteration).toBe(1);
    expect(exposure.eventId).toMatch(/^[0-9a-f]{64}$/);
  });
});
