// `subscription flagsChanged` over GraphQL-over-SSE (Yoga's transport, the stock graphql-sse
// client): the flags at once, again after a config change that changes them, credentials and
// input checks as `flags`, MAX_SUBSCRIPTIONS, document limits, drain; across real server
// processes on PostgreSQL, with SIGTERM ending streams while the drain completes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratedDatabase, databaseKinds } from '../../test/helpers/databases.js';
import { CreateFeature, CreateProject, UpdateFeatureState } from '../../test/helpers/documents.js';
import { eventually } from '../../test/helpers/eventually.js';
import { graphql } from '../../test/generated/index.js';
import { spawnServer } from '../../test/helpers/processes.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import { subscribe } from '../../test/helpers/subscriptions.js';

const FlagsChanged = graphql(`
  subscription LiveFlagsChanged($identifier: String, $traits: JSON) {
    flagsChanged(identifier: $identifier, traits: $traits) { name enabled value variant reason }
  }
`);

const FlagsNow = graphql(`
  query LiveFlagsNow($identifier: String) {
    flags(identifier: $identifier) { name enabled value variant reason }
  }
`);

const codeOf = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => result.errors?.[0]?.extensions?.code;

describe.each(databaseKinds)('flagsChanged on %s', (kind) => {
  let server: TestServer;
  let key: string;
  let otherKey: string;
  const states = new Map<string, string>();
  const client = () => ({ 'x-environment-key': key });

  beforeAll(async () => {
    server = await startTestServer(kind, { config: { maxSubscriptions: 3, cacheTtlSeconds: 3600 } });
    const { createProject } = await server.data(CreateProject, { input: { name: 'Live', environments: ['live', 'other'] } });
    if (createProject.__typename !== 'CreateProjectPayload') throw new Error(JSON.stringify(createProject));
    [key, otherKey] = createProject.project.environments.map((e) => e.key);
    for (const [name, initialValue, options] of [
      ['banner', 'Hello', []],
      [
        'button',
        'grey',
        [
          { key: 'red', value: 'red', defaultWeight: 50, priority: 0 },
          { key: 'blue', value: 'blue', defaultWeight: 50, priority: 1 },
        ],
      ],
    ] as const) {
      const { createFeature } = await server.data(CreateFeature, {
        input: { projectId: createProject.project.id, name, initialValue, defaultEnabled: true, options: [...options] },
      });
      if (createFeature.__typename !== 'CreateFeaturePayload') throw new Error(JSON.stringify(createFeature));
      for (const state of createFeature.feature.states) states.set(`${name}/${state.environment.name}`, state.id);
    }
  });
  afterAll(() => server?.close());

  it('answers the flags at once, as `flags` does, then again after a change that changes them', async () => {
    const live = subscribe(server.url, FlagsChanged, { identifier: 'live-user-1', traits: { plan: 'pro' } }, client());
    try {
      const first = await live.next();
      const now = await server.data(FlagsNow, { identifier: 'live-user-1' }, { environmentKey: key });
      expect(first.errors).toBeUndefined();
      expect(first.data!.flagsChanged).toEqual(now.flags);
      expect(first.data!.flagsChanged.map((f) => f.name)).toEqual(['banner', 'button']);

      // Another environment's change reaches no one here; this environment's does.
      await server.data(UpdateFeatureState, { input: { id: states.get('banner/other')!, value: 'Elsewhere' } });
      await server.data(UpdateFeatureState, { input: { id: states.get('banner/live')!, value: 'Bonjour' } });
      const second = await live.next();
      expect(second.data!.flagsChanged.find((f) => f.name === 'banner')).toMatchObject({ value: 'Bonjour', enabled: true });
      expect(second.data!.flagsChanged).toEqual((await server.data(FlagsNow, { identifier: 'live-user-1' }, { environmentKey: key })).flags);

      // A burst of changes is answered with what they add up to.
      await server.data(UpdateFeatureState, { input: { id: states.get('banner/live')!, value: 'Hola' } });
      await server.data(UpdateFeatureState, { input: { id: states.get('banner/live')!, enabled: false } });
      const third = await eventually(
        async () => {
          const last = live.events.at(-1)!;
          expect(last.data!.flagsChanged.find((f) => f.name === 'banner')).toMatchObject({ value: 'Hola', enabled: false });
          return last;
        },
        { timeoutMs: 10_000, what: 'the flags after the burst' },
      );
      expect(live.events.length).toBeLessThanOrEqual(4);
      expect(third.errors).toBeUndefined();
      expect(live.events.length).toBe(live.events.filter((e) => !e.errors).length);
    } finally {
      live.close();
    }
  });

  it('sends nothing for a change that leaves the flags as they were', async () => {
    await server.data(UpdateFeatureState, { input: { id: states.get('banner/other')!, value: 'Same' } });
    const live = subscribe(server.url, FlagsChanged, { identifier: 'live-user-2' }, { 'x-environment-key': otherKey });
    try {
      await live.next();
      // The same value again (a change announced for this environment that changes no flag), then another environment's change, then a real one.
      await server.data(UpdateFeatureState, { input: { id: states.get('banner/other')!, value: 'Same' } });
      await server.data(UpdateFeatureState, { input: { id: states.get('banner/live')!, value: 'Not here' } });
      await server.data(UpdateFeatureState, { input: { id: states.get('banner/other')!, value: 'Here' } });
      const next = await live.next();
      expect(next.data!.flagsChanged.find((f) => f.name === 'banner')!.value).toBe('Here');
      expect(live.events).toHaveLength(2);
    } finally {
      live.close();
    }
  });

  it('refuses callers and input as `flags` does, and takes no place for them', async () => {
    const cases: { headers: Record<string, string>; variables?: { identifier: string; traits?: unknown }; code: string }[] = [
      { headers: {}, code: 'UNAUTHENTICATED' },
      { headers: { 'x-environment-key': 'env_nope' }, code: 'UNAUTHENTICATED' },
      { headers: { authorization: `Bearer ${server.adminToken}` }, code: 'FORBIDDEN' },
      { headers: client(), variables: { identifier: '' }, code: 'INVALID_IDENTIFIER' },
      { headers: client(), variables: { identifier: 'u', traits: [1] }, code: 'INVALID_INPUT' },
    ];
    for (const { headers, variables, code } of cases) {
      const live = subscribe(server.url, FlagsChanged, variables ?? { identifier: 'someone' }, headers);
      const event = await live.next();
      expect(codeOf(event), `${JSON.stringify(headers)} ${JSON.stringify(event)}`).toBe(code);
      await live.ended;
      live.close();
    }
    expect(server.services.liveFlags.size).toBe(0);
  });

  it('counts against the document limits like a query', async () => {
    const limited = await startTestServer(kind, { config: { maxQueryComplexity: 10 } });
    try {
      const live = subscribe(limited.url, FlagsChanged, { identifier: 'x' }, { 'x-environment-key': limited.demo.environments[0].key });
      const event = await live.next();
      expect(codeOf(event)).toBe('QUERY_TOO_COMPLEX');
      await live.ended;
      live.close();
      expect(limited.services.liveFlags.size).toBe(0);
      // Parsing limits apply before anything: a document with too many aliases.
      const aliases = Array.from({ length: 101 }, (_, i) => `a${i}: __typename`).join(' ');
      const response = await fetch(`${limited.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-environment-key': limited.demo.environments[0].key },
        body: JSON.stringify({ query: `subscription { ${aliases} flagsChanged { name } }` }),
      });
      expect(await response.text()).toContain('QUERY_TOO_LARGE');
    } finally {
      await limited.close();
    }
  });

  it('serves at most MAX_SUBSCRIPTIONS at once, and frees the place of a client that went away', async () => {
    const open = [0, 1, 2].map((i) => subscribe(server.url, FlagsChanged, { identifier: `many-${i}` }, client()));
    try {
      for (const live of open) expect((await live.next()).errors).toBeUndefined();
      expect(server.services.liveFlags.size).toBe(3);
      const refused = subscribe(server.url, FlagsChanged, { identifier: 'one-too-many' }, client());
      const event = await refused.next();
      expect(codeOf(event)).toBe('TOO_MANY_SUBSCRIPTIONS');
      expect(event.errors![0].message).toMatch(/at most 3/);
      refused.close();

      open.pop()!.close();
      await eventually(() => expect(server.services.liveFlags.size).toBe(2), { timeoutMs: 10_000, what: 'the place freed' });
      const again = subscribe(server.url, FlagsChanged, { identifier: 'room-again' }, client());
      expect((await again.next()).errors).toBeUndefined();
      open.push(again);
    } finally {
      for (const live of open) live.close();
    }
    await eventually(() => expect(server.services.liveFlags.size).toBe(0), { timeoutMs: 10_000, what: 'every place freed' });
  });

  it('ends every stream on drain, and the drain completes', async () => {
    const draining = await startTestServer(kind);
    try {
      const live = subscribe(draining.url, FlagsChanged, { identifier: 'drained' }, { 'x-environment-key': draining.demo.environments[0].key });
      await live.next();
      await draining.app.drain(5000);
      await live.ended;
      expect(draining.services.liveFlags.size).toBe(0);
      live.close();
    } finally {
      await draining.close();
    }
  });
});

describe.each(databaseKinds.filter((k) => k === 'postgres'))('flagsChanged across server processes on %s', (kind) => {
  it("streams a change made through another process, and SIGTERM ends the stream while the drain completes", async () => {
    const database = await migratedDatabase(kind);
    try {
      const env = { DATABASE_URL: database.url!, CACHE_TTL_SECONDS: '3600' };
      const first = await spawnServer(env);
      const second = await spawnServer(env);
      const adminToken = /Authorization: Bearer (\S+)/.exec(first.output())![1];
      const prodKey = /Demo production key:\s+X-Environment-Key: (\S+)/.exec(first.output())![1];
      const devKey = /Demo development key:\s+X-Environment-Key: (\S+)/.exec(first.output())![1];

      const live = subscribe(first.url, FlagsChanged, { identifier: 'across' }, { 'x-environment-key': prodKey });
      const initial = await live.next();
      expect(initial.data!.flagsChanged.map((f) => f.name)).toContain('checkout_button');

      const admin = async (query: string, variables: Record<string, unknown> = {}) => {
        const response = await fetch(`${second.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
          body: JSON.stringify({ query, variables }),
        });
        return ((await response.json()) as { data: any }).data;
      };
      const { projects } = await admin(
        '{ projects { edges { node { environments { id key } features(name: "checkout_button") { edges { node { id } } } } } } }',
      );
      const project = projects.edges[0].node;
      const featureId = project.features.edges[0].node.id;
      const envId = (k: string) => project.environments.find((e: { key: string }) => e.key === k).id;
      const turnOff = (environmentId: string) =>
        admin('mutation($input: UpdateFeatureStateInput!) { updateFeatureState(input: $input) { __typename } }', {
          input: { environmentId, featureId, enabled: false },
        });
      // Through the second process: the development change is not this stream's; production's is.
      expect(initial.data!.flagsChanged.find((f) => f.name === 'checkout_button')!.enabled).toBe(true);
      await turnOff(envId(devKey));
      await turnOff(envId(prodKey));
      const changed = await live.next();
      expect(changed.data!.flagsChanged.find((f) => f.name === 'checkout_button')!.enabled).toBe(false);
      expect(live.events).toHaveLength(2);

      first.child.kill('SIGTERM');
      await live.ended;
      expect(await first.exited()).toBe(0);
      live.close();
      second.child.kill('SIGTERM');
      expect(await second.exited()).toBe(0);
    } finally {
      await database.dispose();
    }
  }, 240_000);
});
