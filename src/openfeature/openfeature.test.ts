// OFREP through HTTP: the stock OpenFeature server provider against a real server, and the
// protocol's edges (errors, ETag/304, the event stream) with plain requests.
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { ErrorCode, OpenFeature } from '@openfeature/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { CreateFeature, CreateProject, RemoveIdentityOverride, SetIdentityOverride, UpdateFeatureState } from '../../test/helpers/documents.js';
import { eventually } from '../../test/helpers/eventually.js';
import { globalId } from '../../test/helpers/ids.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';

const IdentityFlags = graphql(`
  query OfrepIdentityFlags($identifier: String) {
    flags(identifier: $identifier) { name enabled value variant reason }
  }
`);

describe.each(databaseKinds)('OFREP on %s', (kind) => {
  let server: TestServer;
  let key: string;
  let projectId: string;
  const states = new Map<string, string>();

  async function feature(name: string, initialValue: unknown, options: { key: string; value: unknown; weight: number }[] = [], enabled = true) {
    const { createFeature } = await server.data(CreateFeature, {
      input: {
        projectId,
        name,
        initialValue,
        defaultEnabled: enabled,
        options: options.map((o, priority) => ({ key: o.key, value: o.value, defaultWeight: o.weight, priority })),
      },
    });
    if (createFeature.__typename !== 'CreateFeaturePayload') throw new Error(JSON.stringify(createFeature));
    states.set(name, createFeature.feature.states[0].id);
  }

  const ofrep = (path: string, body: unknown, headers: Record<string, string> = { 'x-api-key': key }) =>
    fetch(`${server.url}/ofrep/v1/evaluate/flags${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  let environmentId: string;

  beforeAll(async () => {
    server = await startTestServer(kind);
    const { createProject } = await server.data(CreateProject, { input: { name: 'OFREP', environments: ['live'] } });
    if (createProject.__typename !== 'CreateProjectPayload') throw new Error(JSON.stringify(createProject));
    projectId = createProject.project.id;
    key = createProject.project.environments[0].key;
    environmentId = createProject.project.environments[0].id;
    await feature('bool-flag', true);
    await feature('text-flag', 'hello');
    await feature('num-flag', 42);
    await feature('obj-flag', { theme: 'dark', size: 3 });
    await feature('split-flag', 'control-value', [
      { key: 'a', value: 'A', weight: 50 },
      { key: 'b', value: 'B', weight: 50 },
    ]);
    await feature('off-flag', true, [], false);
  });
  afterAll(() => server?.close());

  describe('the OpenFeature server SDK with the stock OFREP provider', () => {
    let client: ReturnType<typeof OpenFeature.getClient>;
    beforeAll(async () => {
      await OpenFeature.setProviderAndWait(`ofrep-${kind}`, new OFREPProvider({ baseUrl: server.url, headers: [['Authorization', `Bearer ${key}`]] }));
      client = OpenFeature.getClient(`ofrep-${kind}`);
    });
    afterAll(() => OpenFeature.clearProviders());

    it('evaluates boolean, string, number and object flags', async () => {
      const context = { targetingKey: 'user-1', plan: 'pro' };
      expect(await client.getBooleanValue('bool-flag', false, context)).toBe(true);
      expect(await client.getStringValue('text-flag', 'default', context)).toBe('hello');
      expect(await client.getNumberValue('num-flag', 0, context)).toBe(42);
      expect(await client.getObjectValue('obj-flag', {}, context)).toEqual({ theme: 'dark', size: 3 });
      const details = await client.getStringDetails('text-flag', 'default', context);
      expect(details.reason).toBe('STATIC');
      expect(details.variant).toBeUndefined();
    });

    it("serves a split flag's variant, the same as GraphQL flags would for that identity", async () => {
      const details = await client.getStringDetails('split-flag', 'default', { targetingKey: 'user-1' });
      expect(details.reason).toBe('SPLIT');
      expect(['a', 'b']).toContain(details.variant);
      expect(details.value).toBe(details.variant === 'a' ? 'A' : 'B');
      // The same identity always gets the same variant.
      for (let i = 0; i < 3; i++) expect((await client.getStringDetails('split-flag', 'default', { targetingKey: 'user-1' })).variant).toBe(details.variant);
    });

    it("answers a missing flag with the SDK's default and FLAG_NOT_FOUND", async () => {
      const details = await client.getBooleanDetails('no-such-flag', false, { targetingKey: 'user-1' });
      expect(details.value).toBe(false);
      expect(details.errorCode).toBe(ErrorCode.FLAG_NOT_FOUND);
    });

    it('says a disabled flag is DISABLED', async () => {
      const details = await client.getBooleanDetails('off-flag', false, { targetingKey: 'user-1' });
      expect(details.reason).toBe('DISABLED');
      expect(details.errorCode).toBeUndefined();
    });

    it('asks for a targetingKey for a flag with variants', async () => {
      const details = await client.getStringDetails('split-flag', 'default', {});
      expect(details.value).toBe('default');
      expect(details.errorCode).toBe(ErrorCode.TARGETING_KEY_MISSING);
    });
  });

  describe("an identity's overrides, as flags applies them", () => {
    let client: ReturnType<typeof OpenFeature.getClient>;
    beforeAll(async () => {
      await OpenFeature.setProviderAndWait(`ofrep-overrides-${kind}`, new OFREPProvider({ baseUrl: server.url, headers: [['X-API-Key', key]] }));
      client = OpenFeature.getClient(`ofrep-overrides-${kind}`);
    });
    afterAll(() => OpenFeature.clearProviders());

    const setOverride = async (identifier: string, feature: string, enabled: boolean, value?: unknown) => {
      const { setIdentityOverride } = await server.data(SetIdentityOverride, { input: { environmentId, identifier, feature, enabled, value } });
      if (setIdentityOverride.__typename !== 'SetIdentityOverridePayload') throw new Error(JSON.stringify(setIdentityOverride));
      return setIdentityOverride.identityOverride.id;
    };
    type Bulk = { flags: { key: string; value: unknown; reason: string; variant?: string }[] };

    it('serves the override of the targetingKey\'s identity with TARGETING_MATCH, through the stock provider and in bulk', async () => {
      const context = { targetingKey: 'vip-1', plan: 'pro' };
      expect(await client.getStringDetails('text-flag', 'default', context)).toMatchObject({ value: 'hello', reason: 'STATIC' });
      const before = await ofrep('', { context });
      const beforeEtag = before.headers.get('etag')!;

      const textOverride = await setOverride('vip-1', 'text-flag', true, 'VIP text');
      await setOverride('vip-1', 'split-flag', true, 'VIP split');
      await setOverride('vip-1', 'bool-flag', false);

      const text = await client.getStringDetails('text-flag', 'default', context);
      expect(text).toMatchObject({ value: 'VIP text', reason: 'TARGETING_MATCH' });
      expect(text.variant).toBeUndefined();
      const split = await client.getStringDetails('split-flag', 'default', context);
      expect(split).toMatchObject({ value: 'VIP split', reason: 'TARGETING_MATCH' });
      expect(split.variant).toBeUndefined();
      expect((await client.getBooleanDetails('bool-flag', true, context)).reason).toBe('DISABLED');
      // Another identity keeps the feature states' answers.
      expect(await client.getStringDetails('text-flag', 'default', { targetingKey: 'vip-2' })).toMatchObject({ value: 'hello', reason: 'STATIC' });

      // Bulk: the same values as GraphQL flags gives that identity; the old ETag no longer matches.
      const bulk = await ofrep('', { context }, { 'x-api-key': key, 'if-none-match': beforeEtag });
      expect(bulk.status).toBe(200);
      const flags = ((await bulk.json()) as Bulk).flags;
      const { flags: graphqlFlags } = await server.data(IdentityFlags, { identifier: 'vip-1' }, { environmentKey: key });
      expect(flags.map((f) => [f.key, f.value, f.variant ?? null])).toEqual(graphqlFlags.map((f) => [f.name, f.value, f.variant]));
      expect(flags.find((f) => f.key === 'text-flag')).toMatchObject({ value: 'VIP text', reason: 'TARGETING_MATCH' });

      // The override removed: the feature state's value again, at once.
      const { removeIdentityOverride } = await server.data(RemoveIdentityOverride, { input: { id: textOverride } });
      expect(removeIdentityOverride.__typename).toBe('RemoveIdentityOverridePayload');
      expect(await client.getStringDetails('text-flag', 'default', context)).toMatchObject({ value: 'hello', reason: 'STATIC' });
    });

    it('reads an identity once, creates none, stores no context, and costs no SQL on a warm request', async () => {
      await setOverride('vip-3', 'num-flag', true, 7);
      const identitiesBefore = await server.services.prisma.identity.count();
      const { traits } = await server.services.prisma.identity.findFirstOrThrow({ where: { identifier: 'vip-3' } });

      const cold = { ...server.counters };
      expect(await client.getNumberValue('num-flag', 0, { targetingKey: 'vip-3', plan: 'pro' })).toBe(7);
      expect(await client.getNumberValue('num-flag', 0, { targetingKey: 'never-seen-3' })).toBe(42);
      expect(server.counters.identityReads - cold.identityReads).toBe(2);

      const warm = { ...server.counters };
      for (let i = 0; i < 3; i++) {
        expect(await client.getNumberValue('num-flag', 0, { targetingKey: 'vip-3', plan: `p${i}` })).toBe(7);
        expect(await client.getNumberValue('num-flag', 0, { targetingKey: 'never-seen-3' })).toBe(42);
        expect((await ofrep('', { context: { targetingKey: 'vip-3' } })).status).toBe(200);
      }
      expect(server.counters).toEqual(warm);
      expect(await server.services.prisma.identity.count()).toBe(identitiesBefore);
      expect((await server.services.prisma.identity.findFirstOrThrow({ where: { identifier: 'vip-3' } })).traits).toEqual(traits);
    });

    it('hears of an override set for an identity it already read as unknown', async () => {
      expect(await client.getNumberValue('num-flag', 0, { targetingKey: 'late-vip' })).toBe(42);
      await setOverride('late-vip', 'num-flag', true, 99);
      expect(await client.getNumberDetails('num-flag', 0, { targetingKey: 'late-vip' })).toMatchObject({ value: 99, reason: 'TARGETING_MATCH' });
    });
  });

  describe('the protocol', () => {
    it('takes the key as Bearer, X-API-Key or X-Environment-Key; refuses others with 401, tokens with 403', async () => {
      for (const headers of [{ authorization: `Bearer ${key}` }, { 'x-api-key': key }, { 'x-environment-key': key }] as Record<string, string>[]) {
        expect((await ofrep('/text-flag', { context: {} }, headers)).status).toBe(200);
      }
      expect((await ofrep('/text-flag', { context: {} }, {})).status).toBe(401);
      expect((await ofrep('/text-flag', { context: {} }, { 'x-api-key': 'env_unknown' })).status).toBe(401);
      expect((await ofrep('/text-flag', { context: {} }, { authorization: `Bearer ${server.adminToken}` })).status).toBe(403);
    });

    it('answers bad input with 400 and a typed code, changing nothing', async () => {
      const cases: [string, unknown, string][] = [
        ['/text-flag', '{not json', 'PARSE_ERROR'],
        ['/text-flag', '[1]', 'PARSE_ERROR'],
        ['/text-flag', { context: 'x' }, 'INVALID_CONTEXT'],
        ['/text-flag', { context: { targetingKey: 5 } }, 'INVALID_CONTEXT'],
        ['/text-flag', { context: { targetingKey: 'a\u0000b' } }, 'INVALID_CONTEXT'],
        ['/text-flag', '{"context":{"name":"\\ud800"}}', 'INVALID_CONTEXT'],
        ['/text-flag', { context: { nested: { a: 1 } } }, 'INVALID_CONTEXT'],
        ['/text-flag', { context: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`t${i}`, i])) }, 'INVALID_CONTEXT'],
        ['/text-flag', `{"context":{"deep":${'['.repeat(5000)}${']'.repeat(5000)}}}`, 'INVALID_CONTEXT'],
        ['/text-flag', { context: { big: 'x'.repeat(600_000) } }, 'INVALID_CONTEXT'],
        [`/${'x'.repeat(151)}`, { context: {} }, 'PARSE_ERROR'],
        ['', '{not json', 'PARSE_ERROR'],
        ['', { context: [] }, 'INVALID_CONTEXT'],
      ];
      const before = await server.services.prisma.identity.count();
      for (const [path, body, code] of cases) {
        const response = await ofrep(path, body);
        expect(response.status, `${path} ${String(body).slice(0, 40)}`).toBe(400);
        expect(((await response.json()) as { errorCode: string }).errorCode).toBe(code);
      }
      expect(await server.services.prisma.identity.count()).toBe(before);
    });

    it('answers an unknown flag with 404 FLAG_NOT_FOUND', async () => {
      for (const path of ['/nope', '/bad%20name']) {
        const response = await ofrep(path, { context: { targetingKey: 'u' } });
        expect(response.status).toBe(404);
        expect(await response.json()).toMatchObject({ errorCode: 'FLAG_NOT_FOUND' });
      }
    });

    it('uses the cached config of flags: no config load and no identity write on a warm request', async () => {
      await ofrep('', { context: { targetingKey: 'warm' } });
      const { configLoads, identityStatements } = server.counters;
      await ofrep('', { context: { targetingKey: 'warm', plan: 'x' } });
      await ofrep('/split-flag', { context: { targetingKey: 'warm-2' } });
      expect(server.counters).toMatchObject({ configLoads, identityStatements });
    });

    it('does not store the context as traits', async () => {
      await ofrep('/text-flag', { context: { targetingKey: 'transient-user', plan: 'pro' } });
      await ofrep('', { context: { targetingKey: 'transient-user', plan: 'pro' } });
      expect(await server.services.prisma.identity.count({ where: { identifier: 'transient-user' } })).toBe(0);
    });

    it('bulk: every flag, an ETag over config and context, 304 on a match, eventStreams', async () => {
      const context = { context: { targetingKey: 'user-9', plan: 'free' } };
      const first = await ofrep('', context);
      expect(first.status).toBe(200);
      const etag = first.headers.get('etag')!;
      const body = (await first.json()) as { flags: { key: string; reason: string; variant?: string }[]; eventStreams: { type: string; url: string }[] };
      expect(body.flags.map((f) => f.key)).toEqual(['bool-flag', 'num-flag', 'obj-flag', 'off-flag', 'split-flag', 'text-flag']);
      expect(body.flags.find((f) => f.key === 'off-flag')!.reason).toBe('DISABLED');
      expect(body.eventStreams).toEqual([{ type: 'sse', url: expect.stringContaining('/ofrep/v1/events?') }]);

      // Same context, properties in another order: 304 without a body.
      const again = await ofrep('', { context: { plan: 'free', targetingKey: 'user-9' } }, { 'x-api-key': key, 'if-none-match': etag });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe('');
      // Another context: not a 304 (a config-only ETag would wrongly say so).
      const other = await ofrep('', { context: { targetingKey: 'user-10', plan: 'free' } }, { 'x-api-key': key, 'if-none-match': etag });
      expect(other.status).toBe(200);
      expect(other.headers.get('etag')).not.toBe(etag);
      // A config change: a new ETag.
      await server.data(UpdateFeatureState, { input: { id: states.get('text-flag')!, value: 'changed' } });
      const changed = await ofrep('', context, { 'x-api-key': key, 'if-none-match': etag });
      expect(changed.status).toBe(200);
      // Changed back: the config's content is what it was, and so is the ETag (reloads and other
      // processes agree on it).
      await server.data(UpdateFeatureState, { input: { id: states.get('text-flag')!, value: 'hello' } });
      expect((await ofrep('', context, { 'x-api-key': key, 'if-none-match': etag })).status).toBe(304);
    });

    it('streams refetchEvaluation when the config changes', async () => {
      const bulk = (await (await ofrep('', { context: {} })).json()) as { eventStreams: { url: string }[] };
      const controller = new AbortController();
      const response = await fetch(bulk.eventStreams[0].url, { signal: controller.signal });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = response.body!.getReader();
      let text = '';
      const reading = (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          text += new TextDecoder().decode(value);
        }
      })().catch(() => {});
      await eventually(() => expect(text).toContain(': connected'), { timeoutMs: 10_000, what: 'the stream opening' });
      await server.data(UpdateFeatureState, { input: { id: states.get('num-flag')!, value: 43 } });
      await eventually(() => expect(text).toContain('data: {"type":"refetchEvaluation"}'), { timeoutMs: 10_000, what: 'a refetch event' });
      controller.abort();
      await reading;
    });
  });
});

describe('OFREP event streams beyond OFREP_MAX_STREAMS', () => {
  it('refuses with 503, and ends open streams on drain', async () => {
    const server = await startTestServer('pglite', { config: { ofrepMaxStreams: 1 } });
    try {
      const key = server.demo.environments[0].key;
      const url = `${server.url}/ofrep/v1/events?environmentKey=${key}`;
      const first = await fetch(url);
      expect(first.status).toBe(200);
      const second = await fetch(url);
      expect(second.status).toBe(503);
      const closed = first.body!.pipeTo(new WritableStream()).then(() => 'ended');
      await server.app.drain(2000);
      expect(await closed).toBe('ended');
    } finally {
      await server.close();
    }
  });
});

describe.each(databaseKinds.filter((k) => k === 'postgres'))('OFREP event stream across server processes on %s', (kind) => {
  it("sends refetchEvaluation when another process changes the environment's config, and not for other environments", async () => {
    const first = await startTestServer(kind, { config: { cacheTtlSeconds: 3600 } });
    const second = await startTestServer(kind, { database: first.database, keepDatabase: true, config: { cacheTtlSeconds: 3600 } });
    const controller = new AbortController();
    try {
      await first.services.configChanges.listening;
      const [dev, prod] = ['development', 'production'].map((name) => first.demo.environments.find((e) => e.name === name)!.key);
      const response = await fetch(`${first.url}/ofrep/v1/events?environmentKey=${prod}`, { signal: controller.signal });
      const reader = response.body!.getReader();
      let text = '';
      const reading = (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          text += new TextDecoder().decode(value);
        }
      })().catch(() => {});
      await eventually(() => expect(text).toContain(': connected'), { timeoutMs: 10_000, what: 'the stream opening' });

      const stateOf = (key: string) =>
        second.services.prisma.featureState.findFirstOrThrow({ where: { environment: { key }, feature: { name: 'checkout_button' } } });
      // A change of another environment first: its notice must not reach this stream.
      await second.data(UpdateFeatureState, { input: { id: globalId('FeatureState', (await stateOf(dev)).id), value: 'Dev only' } });
      await second.data(UpdateFeatureState, { input: { id: globalId('FeatureState', (await stateOf(prod)).id), value: 'Prod change' } });
      await eventually(() => expect(text).toContain('refetchEvaluation'), { timeoutMs: 10_000, what: 'a refetch event from the other process' });
      expect(text.match(/refetchEvaluation/g)).toHaveLength(1);
      // Both processes give the same context the same ETag: a client may revalidate at either.
      const etagAt = async (url: string) =>
        (await fetch(`${url}/ofrep/v1/evaluate/flags`, { method: 'POST', headers: { 'x-api-key': prod }, body: '{"context":{"targetingKey":"u-1"}}' })).headers.get('etag');
      await eventually(async () => expect(await etagAt(first.url)).toBe(await etagAt(second.url)), { timeoutMs: 10_000, what: 'the same ETag in both processes' });
      controller.abort();
      await reading;
    } finally {
      await second.close();
      await first.close();
    }
  });
});
