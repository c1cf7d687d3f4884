import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { CreateFeature, CreateProject, UpdateFeatureState } from '../../test/helpers/documents.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import type { ServedVariant } from './service.js';
import { eventually } from '../../test/helpers/eventually.js';
import { databaseId, globalId } from '../../test/helpers/ids.js';

const Flags = graphql(`
  query Flags($identifier: String, $traits: JSON, $recordExposures: Boolean) {
    flags(identifier: $identifier, traits: $traits, recordExposures: $recordExposures) { name enabled value variant reason }
  }
`);

const OneFlag = graphql(`
  query OneFlag($name: String!, $identifier: String, $traits: JSON) {
    flag(name: $name, identifier: $identifier, traits: $traits) { name enabled value variant reason }
  }
`);

/** SPEC section 3, computed here independently of src/engine. */
function expectedPercentage(featureKey: string, identityKey: string): number {
  const hex = createHash('md5').update(`${featureKey},${identityKey}`).digest('hex');
  return (Number(BigInt(`0x${hex}`) % 9999n) / 9998) * 100;
}

const DemoProject = graphql(`
  query EvaluationDemoProject {
    projects(first: 50) { edges { node { id name environments { id name key } } } }
  }
`);

const ArchiveFeature = graphql(`
  mutation EvaluationArchiveFeature($input: ArchiveFeatureInput!) {
    archiveFeature(input: $input) {
      __typename
      ... on Error { code message }
    }
  }
`);

const DeleteOption = graphql(`
  mutation EvaluationDeleteOption($input: DeleteMultivariateOptionInput!) {
    deleteMultivariateOption(input: $input) {
      __typename
      ... on Error { code message }
    }
  }
`);

interface OptionSeed {
  key: string | null;
  value: unknown;
  weight: number;
  priority: number;
}

/** Creates a feature with options through the admin API (a state in every environment). */
async function createFeature(
  server: TestServer,
  projectId: string,
  name: string,
  options: OptionSeed[],
  init: { value?: unknown; enabled?: boolean } = {},
) {
  const { createFeature: result } = await server.data(CreateFeature, {
    input: {
      projectId,
      name,
      initialValue: init.value ?? 'off',
      defaultEnabled: init.enabled ?? true,
      options: options.map((o) => ({ key: o.key, value: o.value, defaultWeight: o.weight, priority: o.priority })),
    },
  });
  if (result.__typename !== 'CreateFeaturePayload') throw new Error(JSON.stringify(result));
  return result.feature;
}

async function expectPayload(result: Promise<Record<string, { __typename: string }>>): Promise<void> {
  const [payload] = Object.values(await result);
  expect(payload.__typename).toMatch(/Payload$/);
}

describe.each(databaseKinds)('flags evaluation on %s', (kind) => {
  let server: TestServer;
  /** Environments of the demo project: database id, global id, client key. */
  let dev: { key: string; id: number; globalId: string };
  let prod: { key: string; id: number; globalId: string };
  let demoProjectId: number;
  let demoProject: string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    const envs = await server.services.prisma.environment.findMany({ where: { project: { name: 'Demo' } }, orderBy: { id: 'asc' } });
    const { projects } = await server.data(DemoProject, {});
    const demo = projects.edges.find((e) => e.node.name === 'Demo')!.node;
    demoProject = demo.id;
    const environment = (name: string) => {
      const row = envs.find((e) => e.name === name)!;
      return { key: row.key, id: row.id, globalId: demo.environments.find((e) => e.name === name)!.id };
    };
    dev = environment('development');
    prod = environment('production');
    demoProjectId = envs[0].projectId;
  });
  afterAll(() => server?.close());

  it('without an identity serves every flag with reason DEFAULT and no variant', async () => {
    const { flags } = await server.data(Flags, {}, { environmentKey: dev.key });
    const checkout = flags.find((f) => f.name === 'checkout_button');
    expect(checkout).toEqual({ name: 'checkout_button', enabled: true, value: 'Buy', variant: null, reason: 'DEFAULT' });
    for (const flag of flags) expect(flag).toMatchObject({ variant: null, reason: 'DEFAULT' });
    const names = flags.map((f) => f.name);
    expect(names).toEqual([...names].sort());
  });

  it('splits an identity exactly as SPEC section 3 says, the same on every request and after a restart', async () => {
    const state = await server.services.prisma.featureState.findFirstOrThrow({
      where: { environmentId: dev.id, feature: { name: 'checkout_button' } },
    });
    const seen = new Map<string, string | null>();
    for (let i = 0; i < 40; i++) {
      const identifier = `determinism-${i}`;
      const { flag } = await server.data(OneFlag, { name: 'checkout_button', identifier }, { environmentKey: dev.key });
      const percentage = expectedPercentage(String(state.id), `${dev.key}_${identifier}`);
      const expected = percentage < 34 ? ['variant_a', 'Buy now', 'SPLIT; weight=34'] : percentage < 67 ? ['variant_b', 'Purchase', 'SPLIT; weight=33'] : ['control', 'Buy', 'DEFAULT'];
      expect(flag).toEqual({ name: 'checkout_button', enabled: true, variant: expected[0], value: expected[1], reason: expected[2] });
      seen.set(identifier, flag!.variant);
    }
    expect(new Set(seen.values())).toEqual(new Set(['variant_a', 'variant_b', 'control']));

    // A restart: a new server process's worth of services on the same database, empty caches.
    const restarted = await startTestServer(kind, { database: server.database, keepDatabase: true });
    try {
      for (const [identifier, variant] of seen) {
        const again = await restarted.data(Flags, { identifier }, { environmentKey: dev.key });
        expect(again.flags.find((f) => f.name === 'checkout_button')?.variant).toBe(variant);
      }
    } finally {
      await restarted.close();
    }
  });

  it('lands a 50/30/20 split over 3000 identities within statistical bounds', async () => {
    await createFeature(server, demoProject, 'split_503020', [
      { key: 'fifty', value: 50, weight: 50, priority: 1 },
      { key: 'thirty', value: 30, weight: 30, priority: 2 },
      { key: 'twenty', value: 20, weight: 20, priority: 3 },
    ]);
    const counts: Record<string, number> = {};
    const perRequest = 100; // the alias limit (MAX_QUERY_ALIASES), 3 fields each
    for (let batch = 0; batch < 3000 / perRequest; batch++) {
      // Many identities per request: aliased `flag` fields.
      const fields = Array.from({ length: perRequest }, (_, i) => `f${i}: flag(name: "split_503020", identifier: "split-${batch * perRequest + i}") { variant value }`);
      const response = await server.post({ query: `{ ${fields.join('\n')} }` }, { 'x-environment-key': dev.key });
      const body = (await response.json()) as { data: Record<string, { variant: string; value: number }>; errors?: unknown };
      expect(body.errors).toBeUndefined();
      for (const { variant, value } of Object.values(body.data)) {
        counts[variant] = (counts[variant] ?? 0) + 1;
        expect(value).toBe({ fifty: 50, thirty: 30, twenty: 20 }[variant]);
      }
    }
    const n = 3000;
    expect(Object.keys(counts).sort()).toEqual(['fifty', 'thirty', 'twenty']);
    for (const [variant, share] of [['fifty', 0.5], ['thirty', 0.3], ['twenty', 0.2]] as const) {
      const sd = Math.sqrt(n * share * (1 - share));
      expect(Math.abs(counts[variant] - n * share)).toBeLessThan(4 * sd);
    }
    // Every identity was created on first sight.
    expect(await server.services.prisma.identity.count({ where: { environmentId: dev.id, identifier: { startsWith: 'split-' } } })).toBe(n);
  });

  it('still reports the value and variant of a disabled feature', async () => {
    const feature = await createFeature(server, demoProject, 'disabled_mv', [{ key: 'all_in', value: { colour: 'red' }, weight: 100, priority: 1 }], {
      enabled: false,
    });
    const { flag } = await server.data(OneFlag, { name: feature.name, identifier: 'someone' }, { environmentKey: dev.key });
    expect(flag).toEqual({ name: 'disabled_mv', enabled: false, value: { colour: 'red' }, variant: 'all_in', reason: 'SPLIT; weight=100' });
  });

  it('uses effective weights (allocations) and live options in priority order; archived features are not served', async () => {
    const feature = await createFeature(server, demoProject, 'weighted', [
      { key: 'second', value: 'B', weight: 0, priority: 2 },
      { key: 'first', value: 'A', weight: 100, priority: 1 },
      { key: null, value: 'unkeyed', weight: 0, priority: 3 },
    ]);
    const byKey = (key: string | null) => feature.options.find((o) => o.key === key)!;
    const identifier = 'weights-1';
    const weighted = async (environmentKey: string) => (await server.data(OneFlag, { name: 'weighted', identifier }, { environmentKey })).flag;
    expect((await weighted(dev.key))?.variant).toBe('first');

    // Production only: everything on the unkeyed option; development is untouched.
    await expectPayload(
      server.data(UpdateFeatureState, {
        input: {
          environmentId: prod.globalId,
          featureId: feature.id,
          allocations: [
            { optionId: byKey('first').id, weight: 0 },
            { optionId: byKey(null).id, weight: 100 },
          ],
        },
      }),
    );
    expect(await weighted(prod.key)).toMatchObject({ variant: null, value: 'unkeyed', reason: 'SPLIT; weight=100' });
    expect((await weighted(dev.key))?.variant).toBe('first');

    // Without the winning option, its range goes to nobody in development: control.
    await expectPayload(server.data(DeleteOption, { input: { id: byKey('first').id } }));
    expect(await weighted(dev.key)).toMatchObject({ variant: 'control', value: 'off', reason: 'DEFAULT' });
    expect(await weighted(prod.key)).toMatchObject({ variant: null, value: 'unkeyed' });

    // An archived option (kept for its exposures) leaves evaluation with its allocation.
    const unkeyedId = databaseId(byKey(null).id);
    await server.services.prisma.multivariateOption.update({ where: { id: unkeyedId }, data: { archivedAt: new Date() } });
    await server.services.configChanges.announce([dev.id, prod.id]);
    expect(await weighted(prod.key)).toMatchObject({ variant: 'control', value: 'off' });

    await expectPayload(server.data(ArchiveFeature, { input: { id: feature.id } }));
    expect(await weighted(dev.key)).toBeNull();
    const { flags } = await server.data(Flags, { identifier }, { environmentKey: dev.key });
    expect(flags.map((f) => f.name)).not.toContain('weighted');
  });

  it('creates identities on first sight and merges their traits (null deletes one)', async () => {
    const { prisma } = server.services;
    const as = { environmentKey: dev.key };
    await server.data(Flags, { identifier: 'trait-user', traits: { plan: 'pro', age: 30 } }, as);
    await server.data(Flags, { identifier: 'trait-user', traits: { age: 31, beta: true } }, as);
    const stored = await prisma.identity.findUniqueOrThrow({ where: { environmentId_identifier: { environmentId: dev.id, identifier: 'trait-user' } } });
    expect(stored.traits).toEqual({ plan: 'pro', age: 31, beta: true });
    await server.data(Flags, { identifier: 'trait-user', traits: { plan: null } }, as);
    const after = await prisma.identity.findUniqueOrThrow({ where: { id: stored.id } });
    expect(after.traits).toEqual({ age: 31, beta: true });
    // Only its own environment has it.
    expect(await prisma.identity.count({ where: { identifier: 'trait-user' } })).toBe(1);

    // A second process (fresh memory) merges into what is stored, not into what it remembers.
    const other = await startTestServer(kind, { database: server.database, keepDatabase: true });
    try {
      await other.data(Flags, { identifier: 'trait-user', traits: { country: 'NZ' } }, as);
    } finally {
      await other.close();
    }
    expect((await prisma.identity.findUniqueOrThrow({ where: { id: stored.id } })).traits).toEqual({ age: 31, beta: true, country: 'NZ' });
  });

  it('creates one identity when first requests race, with every trait merged', async () => {
    const as = { environmentKey: dev.key };
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => server.data(Flags, { identifier: 'racer', traits: { [`t${i}`]: i } }, as)),
    );
    const rows = await server.services.prisma.identity.findMany({ where: { environmentId: dev.id, identifier: 'racer' } });
    expect(rows).toHaveLength(1);
    expect(rows[0].traits).toEqual(Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`t${i}`, i])));
  });

  it('writes nothing for a recently seen identity with unchanged traits, and reads no config on a warm cache', async () => {
    const { counters } = server;
    const as = { environmentKey: dev.key };
    await server.data(Flags, { identifier: 'quiet', traits: { a: 1 } }, as);
    const before = await server.services.prisma.identity.findFirstOrThrow({ where: { identifier: 'quiet', environmentId: dev.id } });
    const loads = counters.configLoads;
    const statements = counters.identityStatements;
    for (let i = 0; i < 5; i++) await server.data(Flags, { identifier: 'quiet', traits: { a: 1 } }, as);
    await server.data(Flags, { identifier: 'quiet' }, as);
    expect(counters.configLoads).toBe(loads);
    expect(counters.identityStatements).toBe(statements);
    const after = await server.services.prisma.identity.findUniqueOrThrow({ where: { id: before.id } });
    expect(after.updatedAt).toEqual(before.updatedAt);
    // A trait change is one statement.
    await server.data(Flags, { identifier: 'quiet', traits: { a: 2 } }, as);
    expect(counters.identityStatements).toBe(statements + 1);
  });

  it('refuses bad identifiers and traits with GraphQL error codes', async () => {
    const as = { environmentKey: dev.key };
    // 900 CJK characters are 2,700 bytes: more than the identity index can hold.
    for (const identifier of ['', 'x'.repeat(2001), '漢'.repeat(900)]) {
      const result = await server.request(Flags, { identifier }, as);
      expect(result.errors?.[0]?.extensions?.code).toBe('INVALID_IDENTIFIER');
    }
    expect((await server.request(Flags, { identifier: 'x'.repeat(2000) }, as)).errors).toBeUndefined();
    for (const traits of [[1, 2], 'text', { nested: { a: 1 } }, { list: [1] }, Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i]))]) {
      const result = await server.request(Flags, { identifier: 'bad-traits', traits }, as);
      expect(result.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
    }
    const withoutIdentity = await server.request(Flags, { traits: { a: 1 } }, as);
    expect(withoutIdentity.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
    expect(await server.services.prisma.identity.count({ where: { identifier: 'bad-traits' } })).toBe(0);
  });

  it('answers only clients, each for its own environment', async () => {
    const admin = await server.request(Flags, {});
    expect(admin.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await server.request(Flags, {}, {});
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const wrongKey = await server.request(Flags, {}, { environmentKey: 'env_0000000000000000000000' });
    expect(wrongKey.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const { createProject } = await server.data(CreateProject, { input: { name: 'Elsewhere', environments: ['live'] } });
    if (createProject.__typename !== 'CreateProjectPayload') throw new Error(createProject.__typename);
    const otherKey = createProject.project.environments[0].key;
    await createFeature(server, createProject.project.id, 'elsewhere_only', []);
    const { flags: devFlags } = await server.data(Flags, {}, { environmentKey: dev.key });
    expect(devFlags.map((f) => f.name)).not.toContain('elsewhere_only');
    await server.data(Flags, { identifier: 'two-places' }, { environmentKey: dev.key });
    const { flags: otherFlags } = await server.data(Flags, { identifier: 'two-places' }, { environmentKey: otherKey });
    expect(otherFlags.map((f) => f.name)).toEqual(['elsewhere_only']);
    expect((await server.data(OneFlag, { name: 'checkout_button' }, { environmentKey: otherKey })).flag).toBeNull();
    // The same identifier is a different identity there.
    expect(await server.services.prisma.identity.count({ where: { identifier: 'two-places' } })).toBe(2);
  });

  it('shows an admin change to the next request', async () => {
    const as = { environmentKey: dev.key };
    const feature = await createFeature(server, demoProject, 'toggled', [], { value: 1, enabled: false });
    expect((await server.data(OneFlag, { name: 'toggled' }, as)).flag).toMatchObject({ enabled: false, value: 1 });
    const loads = server.counters.configLoads;
    await expectPayload(server.data(UpdateFeatureState, { input: { environmentId: dev.globalId, featureId: feature.id, enabled: true, value: 2 } }));
    expect((await server.data(OneFlag, { name: 'toggled' }, as)).flag).toMatchObject({ enabled: true, value: 2 });
    // Back to inheriting the feature's value.
    await expectPayload(server.data(UpdateFeatureState, { input: { environmentId: dev.globalId, featureId: feature.id, value: null } }));
    expect((await server.data(OneFlag, { name: 'toggled' }, as)).flag).toMatchObject({ enabled: true, value: 1 });
    // Each change reloaded the config once (not once per request or feature).
    expect(server.counters.configLoads).toBe(loads + 2);
    // Production was not touched.
    expect((await server.data(OneFlag, { name: 'toggled' }, { environmentKey: prod.key })).flag).toMatchObject({ enabled: false, value: 1 });
  });

  it('hands served variants to the exposure log when recordExposures is true', async () => {
    const calls: { identity: { id: number; identifier: string }; served: ServedVariant[] }[] = [];
    const { exposures } = server.services;
    const original = exposures.recordServedVariants;
    exposures.recordServedVariants = async (environment, identity, served) => {
      calls.push({ identity, served });
      await original.call(exposures, environment, identity, served);
    };
    try {
      const as = { environmentKey: dev.key };
      await server.data(Flags, { identifier: 'exposed-1' }, as);
      expect(calls).toHaveLength(0);
      const { flags } = await server.data(Flags, { identifier: 'exposed-1', recordExposures: true }, as);
      expect(calls).toHaveLength(1);
      const identity = await server.services.prisma.identity.findFirstOrThrow({ where: { environmentId: dev.id, identifier: 'exposed-1' } });
      expect(calls[0].identity).toEqual({ id: identity.id, identifier: 'exposed-1' });
      const checkout = await server.services.prisma.feature.findFirstOrThrow({ where: { projectId: demoProjectId, name: 'checkout_button' }, include: { options: true } });
      const served = calls[0].served.find((s) => s.featureId === checkout.id)!;
      const flag = flags.find((f) => f.name === 'checkout_button')!;
      expect(served.variantKey).toBe(flag.variant);
      expect(served.optionId).toBe(checkout.options.find((o) => o.key === flag.variant)?.id ?? null);
      // Only multivariate flags with a variant key are served variants.
      const multivariateWithKey = flags.filter((f) => f.variant !== null).map((f) => f.name).sort();
      const servedNames = await Promise.all(calls[0].served.map(async (s) => (await server.services.prisma.feature.findUniqueOrThrow({ where: { id: s.featureId } })).name));
      expect(servedNames.sort()).toEqual(multivariateWithKey);
    } finally {
      exposures.recordServedVariants = original;
    }
  });

  it('gives other domains the same assignment as flags', async () => {
    const evaluation = server.services.assignments;
    const checkout = await server.services.prisma.feature.findFirstOrThrow({ where: { projectId: demoProjectId, name: 'checkout_button' } });
    for (const identifier of ['assign-1', 'assign-2', 'assign-3', 'assign-4']) {
      const { flag } = await server.data(OneFlag, { name: 'checkout_button', identifier }, { environmentKey: prod.key });
      const assigned = await evaluation.assignedVariantKeys(prod.id, identifier, [checkout.id, 999_999]);
      expect(assigned.get(checkout.id)).toBe(flag!.variant);
      expect(assigned.has(999_999)).toBe(false);
    }
  });
});

describe.each(databaseKinds)('lastSeenAt of a returning identity on %s', (kind) => {
  let server: TestServer;
  /** The identity bookkeeping's clock: moved on by the tests, not waited for. */
  let clock = Date.now();
  let dev: { key: string; id: number };

  beforeAll(async () => {
    server = await startTestServer(kind, { identityClock: () => clock });
    const row = await server.services.prisma.environment.findFirstOrThrow({ where: { project: { name: 'Demo' }, name: 'development' } });
    dev = { key: row.key, id: row.id };
  });
  afterAll(() => server?.close());

  const lastSeen = async (identifier: string) =>
    (await server.services.prisma.identity.findFirstOrThrow({ where: { environmentId: dev.id, identifier } })).lastSeenAt.getTime();

  it('is written once a minute, behind the answer, and the answer is the same', async () => {
    const as = { environmentKey: dev.key };
    const first = await server.data(Flags, { identifier: 'returning', traits: { plan: 'pro' } }, as);
    const written = await lastSeen('returning');
    const statements = server.counters.identityStatements;
    clock += 30_000;
    expect(await server.data(Flags, { identifier: 'returning', traits: { plan: 'pro' } }, as)).toEqual(first);
    expect(server.counters.identityStatements).toBe(statements);

    clock += 31_000;
    // Three requests past the minute: each answered as before, one write between them.
    const answers = await Promise.all([1, 2, 3].map(() => server.data(Flags, { identifier: 'returning', traits: { plan: 'pro' } }, as)));
    for (const answer of answers) expect(answer).toEqual(first);
    await eventually(async () => expect(await lastSeen('returning')).toBeGreaterThan(written), { timeoutMs: 10_000, what: 'the lastSeenAt write' });
    expect(server.counters.identityStatements).toBe(statements + 1);
    // Written: quiet again for a minute.
    await server.data(Flags, { identifier: 'returning' }, as);
    expect(server.counters.identityStatements).toBe(statements + 1);
  });

  it('waits for the write when the traits change, also past the minute', async () => {
    const as = { environmentKey: dev.key };
    await server.data(Flags, { identifier: 'changing', traits: { plan: 'free' } }, as);
    const statements = server.counters.identityStatements;
    clock += 61_000;
    await server.data(Flags, { identifier: 'changing', traits: { plan: 'pro' } }, as);
    // Written before the answer: the stored traits are the new ones as soon as it arrives.
    expect(server.counters.identityStatements).toBe(statements + 1);
    const stored = await server.services.prisma.identity.findFirstOrThrow({ where: { environmentId: dev.id, identifier: 'changing' } });
    expect(stored.traits).toEqual({ plan: 'pro' });
  });

  it.runIf(kind === 'postgres')('answers while another transaction holds the identity row', async () => {
    const as = { environmentKey: dev.key };
    const first = await server.data(Flags, { identifier: 'locked' }, as);
    const written = await lastSeen('locked');
    const other = new pg.Client({ connectionString: server.database.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`SELECT 1 FROM "Identity" WHERE "environmentId" = $1 AND identifier = 'locked' FOR UPDATE`, [dev.id]);
      clock += 61_000;
      // The lastSeenAt upsert waits for that lock; the answer does not.
      expect(await server.data(Flags, { identifier: 'locked' }, as)).toEqual(first);
      expect(await lastSeen('locked')).toBe(written);
      await other.query('COMMIT');
    } finally {
      await other.end();
    }
    await eventually(async () => expect(await lastSeen('locked')).toBeGreaterThan(written), { timeoutMs: 10_000, what: 'the lastSeenAt write' });
  });
});

describe.each(databaseKinds.filter((k) => k === 'postgres'))('config cache across server processes on %s', (kind) => {
  let first: TestServer;
  let second: TestServer;

  beforeAll(async () => {
    // Long TTL: only the change notice can make the second server see the change.
    first = await startTestServer(kind, { config: { cacheTtlSeconds: 3600 } });
    second = await startTestServer(kind, { database: first.database, keepDatabase: true, config: { cacheTtlSeconds: 3600 } });
    await second.services.configChanges.listening;
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('assigns the same variants on both servers and shows an admin change on the other one', async () => {
    const devKey = first.demo.environments.find((e) => e.name === 'development')!.key;
    const as = { environmentKey: devKey };
    for (const identifier of ['p-1', 'p-2', 'p-3', 'p-4', 'p-5']) {
      const a = await first.data(OneFlag, { name: 'checkout_button', identifier }, as);
      const b = await second.data(OneFlag, { name: 'checkout_button', identifier }, as);
      expect(b.flag).toEqual(a.flag);
    }
    expect((await second.data(OneFlag, { name: 'checkout_button' }, as)).flag?.value).toBe('Buy');

    const state = await first.services.prisma.featureState.findFirstOrThrow({ where: { environment: { key: devKey }, feature: { name: 'checkout_button' } } });
    await expectPayload(
      first.data(UpdateFeatureState, { input: { id: globalId('FeatureState', state.id), value: 'Checkout', enabled: false } }),
    );

    // The notice travels asynchronously: poll the second server until it shows the change.
    await eventually(async () => expect((await second.data(OneFlag, { name: 'checkout_button' }, as)).flag).toMatchObject({ value: 'Checkout', enabled: false }), {
      timeoutMs: 10_000,
    });
  });
});
