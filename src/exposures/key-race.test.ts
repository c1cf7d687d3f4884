// A variant key changed, cleared or deleted while exposures under it are being recorded:
// whichever commits first wins, and no exposure ever names a key that its option does not have.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { RecordExposure as Record } from '../../test/helpers/documents.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';

const CreateOption = graphql(`
  mutation KeyRaceCreateOption($input: CreateMultivariateOptionInput!) {
    createMultivariateOption(input: $input) {
      __typename
      ... on CreateMultivariateOptionPayload { option { id key } }
      ... on Error { code message }
    }
  }
`);

const UpdateOption = graphql(`
  mutation KeyRaceUpdateOption($input: UpdateMultivariateOptionInput!) {
    updateMultivariateOption(input: $input) {
      __typename
      ... on UpdateMultivariateOptionPayload { option { id key } }
      ... on Error { code message }
    }
  }
`);

const DeleteOption = graphql(`
  mutation KeyRaceDeleteOption($input: DeleteMultivariateOptionInput!) {
    deleteMultivariateOption(input: $input) {
      __typename
      ... on DeleteMultivariateOptionPayload { archived option { id key } }
      ... on Error { code message }
    }
  }
`);

const Project = graphql(`
  query KeyRaceProject {
    projects(first: 10) { edges { node { name features(name: "checkout_button") { edges { node { id } } } } } }
  }
`);

describe.each(databaseKinds)('variant key changes racing exposures on %s', (kind) => {
  let server: TestServer;
  let environmentKey: string;
  let featureGlobalId: string;
  let featureId: number;
  const rounds = kind === 'postgres' ? 60 : 10;
  // Many rounds of several requests each: generous on a loaded machine.
  const timeout = 300_000;

  beforeAll(async () => {
    server = await startTestServer(kind);
    environmentKey = server.demo.environments.find((e) => e.name === 'development')!.key;
    const projects = (await server.data(Project)).projects.edges;
    featureGlobalId = projects.find((p) => p.node.name === 'Demo')!.node.features.edges[0].node.id;
    featureId = (await server.services.prisma.feature.findFirstOrThrow({ where: { name: 'checkout_button', project: { name: 'Demo' } } })).id;
  });
  afterAll(() => server?.close());

  /** Exposures whose variant key is not the key of the option they reference. */
  const orphans = () =>
    server.services.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM "Exposure" e JOIN "MultivariateOption" o ON o.id = e."optionId"
      WHERE o.key IS DISTINCT FROM e."variantKey"`;

  const newOption = async (key: string) => {
    const created = (await server.data(CreateOption, { input: { featureId: featureGlobalId, key, value: key, defaultWeight: 0 } }))
      .createMultivariateOption;
    if (created.__typename !== 'CreateMultivariateOptionPayload') throw new Error(JSON.stringify(created));
    return created.option.id;
  };
  const record = (variantKey: string, identifier: string) =>
    server.request(Record, { input: { feature: 'checkout_button', identifier, variantKey } }, { environmentKey });

  it('renames (or clears) a key, or records under it, never both', async () => {
    const outcomes = new Map<string, number>();
    for (let round = 0; round < rounds; round++) {
      const key = `race_${round}`;
      const id = await newOption(key);
      // Alternate renames and clears: both change the key.
      const newKey = round % 2 === 0 ? `renamed_${round}` : null;
      // Every third round the exposures get a head start, so that both orders happen.
      const headStart = round % 3 === 2 ? round % 7 : 0;
      const [recorded, updated] = await Promise.all([
        Promise.all([record(key, `racer-${round}-a`), record(key, `racer-${round}-b`)]),
        new Promise((resolve) => setTimeout(resolve, headStart)).then(() => server.request(UpdateOption, { input: { id, key: newKey } })),
      ]);
      expect(updated.errors).toBeUndefined();
      for (const r of recorded) expect(r.errors).toBeUndefined();
      const update = updated.data!.updateMultivariateOption;
      const codes = recorded.map((r) => {
        const payload = r.data!.recordExposure;
        return payload.__typename === 'RecordExposurePayload' ? 'ACCEPTED' : payload.code;
      });
      const outcome = `${update.__typename === 'UpdateMultivariateOptionPayload' ? 'CHANGED' : update.code} ${codes.join(',')}`;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      if (update.__typename === 'UpdateMultivariateOptionPayload') {
        // The key changed: every exposure under it was refused.
        expect(codes).toEqual(['UNKNOWN_VARIANT_KEY', 'UNKNOWN_VARIANT_KEY']);
      } else {
        expect(update.code).toBe('VARIANT_KEY_IN_USE');
        expect(codes).toContain('ACCEPTED');
      }
    }
    expect((await orphans())[0].n).toBe(0);
    // Every exposure accepted under a raced key is still under that key of its option.
    const accepted = [...outcomes].filter(([o]) => o.startsWith('VARIANT_KEY_IN_USE')).length;
    if (accepted > 0) expect(await server.services.prisma.exposure.count({ where: { featureId, variantKey: { startsWith: 'race_' } } })).toBeGreaterThan(0);
  }, timeout);

  it('deletes an option or archives it, as exposures racing the delete decide, never with an internal error', async () => {
    for (let round = 0; round < rounds; round++) {
      const key = `gone_${round}`;
      const id = await newOption(key);
      const [deleted, recorded] = await Promise.all([server.request(DeleteOption, { input: { id } }), record(key, `deleter-${round}`)]);
      expect(deleted.errors).toBeUndefined();
      expect(recorded.errors).toBeUndefined();
      const payload = deleted.data!.deleteMultivariateOption;
      if (payload.__typename !== 'DeleteMultivariateOptionPayload') throw new Error(JSON.stringify(payload));
      const exposure = recorded.data!.recordExposure;
      if (payload.archived) expect(exposure.__typename).toBe('RecordExposurePayload');
      else expect(exposure).toMatchObject({ code: 'UNKNOWN_VARIANT_KEY' });
    }
    expect((await orphans())[0].n).toBe(0);
  }, timeout);

  it('refuses in the database a key change that would strand recorded exposures', async () => {
    const id = await newOption('db_guard');
    const recorded = (await record('db_guard', 'guarded')).data!.recordExposure;
    expect(recorded.__typename).toBe('RecordExposurePayload');
    const optionId = (await server.services.prisma.multivariateOption.findFirstOrThrow({ where: { key: 'db_guard' } })).id;
    // Straight to the database, past every check of the API: the database itself refuses.
    await expect(server.services.prisma.multivariateOption.update({ where: { id: optionId }, data: { key: 'db_guard_2' } })).rejects.toThrow();
    await expect(server.services.prisma.multivariateOption.update({ where: { id: optionId }, data: { key: null } })).rejects.toThrow();
    expect((await server.data(UpdateOption, { input: { id, key: 'db_guard_3' } })).updateMultivariateOption).toMatchObject({
      code: 'VARIANT_KEY_IN_USE',
    });
    expect((await orphans())[0].n).toBe(0);
  });
});
