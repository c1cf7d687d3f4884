// Input integrity through HTTP: variables inside JSON literals are substituted, input that is
// not valid Unicode (bad UTF-8, lone surrogates) or carries NUL is refused rather than
// rewritten, JSON nesting is bounded, and error messages echo only a short prefix of input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../../test/helpers/databases.js';
import { CreateFeature, CreateProject } from '../../test/helpers/documents.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import { eventually } from '../../test/helpers/eventually.js';
import { subscribe } from '../../test/helpers/subscriptions.js';
import { ECHO_MAX } from '../errors/echo.js';
import { INPUT_JSON_DEPTH_MAX } from './input-integrity.js';

interface Reply {
  status: number;
  body: { data?: Record<string, any> | null; errors?: { message: string; extensions?: { code?: string } }[] };
}

describe.each(databaseKinds)('input integrity on %s', (kind) => {
  let server: TestServer;
  let projectId: string;
  let environmentId: string;
  let environmentKey: string;
  let serial = 0;
  const unique = (prefix: string) => `${prefix}-${++serial}`;

  async function gql(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Reply> {
    const auth: Record<string, string> = 'x-environment-key' in headers ? {} : { authorization: `Bearer ${server.adminToken}` };
    const response = await server.post({ query, variables }, { ...auth, ...headers });
    return { status: response.status, body: (await response.json()) as Reply['body'] };
  }

  async function ok(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    const reply = await gql(query, variables, headers);
    expect(reply.body.errors, JSON.stringify(reply.body.errors)).toBeUndefined();
    return reply.body.data!;
  }

  const asClient = () => ({ 'x-environment-key': environmentKey });

  async function createFeature(options = false): Promise<{ id: string; optionId?: string }> {
    const { createFeature: result } = await server.data(CreateFeature, {
      input: { projectId, name: unique('f'), options: options ? [{ key: 'a', defaultWeight: 50, value: 1 }] : null },
    });
    if (result.__typename !== 'CreateFeaturePayload') throw new Error(JSON.stringify(result));
    return { id: result.feature.id, optionId: result.feature.options[0]?.id };
  }

  async function countProjects(): Promise<number> {
    return (await ok('{ projects(first: 100) { edges { node { id } } } }')).projects.edges.length;
  }

  beforeAll(async () => {
    server = await startTestServer(kind);
    const { createProject: created } = await server.data(CreateProject, { input: { name: 'integrity', environments: ['dev'] } });
    if (created.__typename !== 'CreateProjectPayload') throw new Error(JSON.stringify(created));
    projectId = created.project.id;
    environmentId = created.project.environments[0].id;
    environmentKey = created.project.environments[0].key;
  });
  afterAll(() => server?.close());

  describe('variables inside JSON literals', () => {
    // The literal forms every JSON position is tried with: variables in object and list
    // literals, nested, and both at once.
    // (Variables straight inside a list literal at a JSON place must be JSON themselves.)
    const literals: { text: string; decl: string; expected: unknown }[] = [
      {
        text: '{ headline: $h, nested: { list: [$h, { deep: [$n] }] }, fixed: 1 }',
        decl: '$h: String, $n: Int',
        expected: { headline: 'Hello', nested: { list: ['Hello', { deep: [7] }] }, fixed: 1 },
      },
      { text: '[$h, [$n, [$h]], { k: $n }]', decl: '$h: JSON, $n: JSON', expected: ['Hello', [7, ['Hello']], { k: 7 }] },
    ];
    const vars = { h: 'Hello', n: 7 };

    // How to write a literal into each JSON argument or input field, and read back what was stored.
    const cases: Record<string, (literal: string, decl: string) => Promise<unknown>> = {
      'CreateFeatureInput.initialValue': async (literal, decl) => {
        const data = await ok(
          `mutation($p: ID!, $name: String!, ${decl}) {
            createFeature(input: { projectId: $p, name: $name, initialValue: ${literal} }) { ... on CreateFeaturePayload { feature { id } } }
          }`,
          { ...vars, p: projectId, name: unique('iv') },
        );
        const read = await ok('query($id: ID!) { node(id: $id) { ... on Feature { initialValue } } }', { id: data.createFeature.feature.id });
        return read.node.initialValue;
      },
      'NewMultivariateOptionInput.value': async (literal, decl) => {
        const data = await ok(
          `mutation($p: ID!, $name: String!, ${decl}) {
            createFeature(input: { projectId: $p, name: $name, options: [{ key: "a", defaultWeight: 10, value: ${literal} }] }) {
              ... on CreateFeaturePayload { feature { id } }
            }
          }`,
          { ...vars, p: projectId, name: unique('nv') },
        );
        const read = await ok('query($id: ID!) { node(id: $id) { ... on Feature { options { value } } } }', { id: data.createFeature.feature.id });
        return read.node.options[0].value;
      },
      'CreateMultivariateOptionInput.value': async (literal, decl) => {
        const feature = await createFeature();
        const data = await ok(
          `mutation($f: ID!, ${decl}) {
            createMultivariateOption(input: { featureId: $f, key: "b", defaultWeight: 10, value: ${literal} }) {
              ... on CreateMultivariateOptionPayload { option { id } }
            }
          }`,
          { ...vars, f: feature.id },
        );
        const read = await ok('query($id: ID!) { node(id: $id) { ... on MultivariateOption { value } } }', { id: data.createMultivariateOption.option.id });
        return read.node.value;
      },
      'UpdateFeatureInput.initialValue': async (literal, decl) => {
        const feature = await createFeature();
        await ok(`mutation($f: ID!, ${decl}) { updateFeature(input: { id: $f, initialValue: ${literal} }) { __typename } }`, { ...vars, f: feature.id });
        const read = await ok('query($id: ID!) { node(id: $id) { ... on Feature { initialValue } } }', { id: feature.id });
        return read.node.initialValue;
      },
      'UpdateFeatureStateInput.value': async (literal, decl) => {
        const feature = await createFeature();
        await ok(
          `mutation($f: ID!, $e: ID!, ${decl}) {
            updateFeatureState(input: { featureId: $f, environmentId: $e, value: ${literal} }) { __typename }
          }`,
          { ...vars, f: feature.id, e: environmentId },
        );
        const read = await ok('query($id: ID!, $e: ID!) { node(id: $id) { ... on Feature { state(environmentId: $e) { value } } } }', {
          id: feature.id,
          e: environmentId,
        });
        return read.node.state.value;
      },
      'UpdateMultivariateOptionInput.value': async (literal, decl) => {
        const feature = await createFeature(true);
        await ok(`mutation($o: ID!, ${decl}) { updateMultivariateOption(input: { id: $o, value: ${literal} }) { __typename } }`, {
          ...vars,
          o: feature.optionId,
        });
        const read = await ok('query($id: ID!) { node(id: $id) { ... on MultivariateOption { value } } }', { id: feature.optionId });
        return read.node.value;
      },
      'SetSegmentOverrideInput.value': async (literal, decl) => {
        const feature = await createFeature();
        const segmentId = await createSegment();
        const data = await ok(
          `mutation($f: ID!, $e: ID!, $s: ID!, ${decl}) {
            setSegmentOverride(input: { environmentId: $e, featureId: $f, segmentId: $s, enabled: true, value: ${literal} }) {
              ... on SetSegmentOverridePayload { segmentOverride { id } }
            }
          }`,
          { ...vars, f: feature.id, e: environmentId, s: segmentId },
        );
        const read = await ok('query($id: ID!) { node(id: $id) { ... on SegmentOverride { value } } }', { id: data.setSegmentOverride.segmentOverride.id });
        return read.node.value;
      },
      'SetIdentityOverrideInput.value': async (literal, decl) => {
        const feature = await createFeature();
        const name = (await ok('query($id: ID!) { node(id: $id) { ... on Feature { name } } }', { id: feature.id })).node.name;
        const data = await ok(
          `mutation($e: ID!, $i: String!, $f: String!, ${decl}) {
            setIdentityOverride(input: { environmentId: $e, identifier: $i, feature: $f, enabled: true, value: ${literal} }) {
              ... on SetIdentityOverridePayload { identityOverride { id } }
            }
          }`,
          { ...vars, e: environmentId, i: unique('override-user'), f: name },
        );
        const read = await ok('query($id: ID!) { node(id: $id) { ... on IdentityOverride { value } } }', { id: data.setIdentityOverride.identityOverride.id });
        return read.node.value;
      },
      // Segment rules have a shape of their own: the variables stand for a condition's parts.
      'CreateSegmentInput.rules': () => rulesThrough((rules) => createSegment(rules)),
      'UpdateSegmentInput.rules': () =>
        rulesThrough(async (rules) => {
          const id = await createSegment();
          await ok(`mutation($id: ID!, $h: String) { updateSegment(input: { id: $id, rules: ${rules} }) { __typename ... on Error { code message } } }`, { ...vars, id });
          return id;
        }),
      // Traits are one flat object: its values are the variables.
      'Query.flags(traits)': () => traitsThrough('flags(identifier: $i, traits: { plan: $h, seats: $n, fixed: "x" }) { name }'),
      'Query.flag(traits)': () => traitsThrough('flag(name: "none", identifier: $i, traits: { plan: $h, seats: $n, fixed: "x" }) { name }'),
      'Subscription.flagsChanged(traits)': () => subscriptionTraitsThrough('flagsChanged(identifier: $i, traits: { plan: $h, seats: $n, fixed: "x" }) { name }'),
    };

    /** A segment (rules given as a literal using $h and $n, or a fixed rule), its id. */
    async function createSegment(rules = '[{ type: "ALL", conditions: [{ property: "plan", operator: "EQUAL", value: "pro" }] }]'): Promise<string> {
      const data = await ok(
        `mutation($p: ID!, $name: String!${rules.includes('$') ? ', $h: String' : ''}) {
          createSegment(input: { projectId: $p, name: $name, rules: ${rules} }) { ... on CreateSegmentPayload { segment { id } } ... on Error { code message } }
        }`,
        { ...vars, p: projectId, name: unique('seg') },
      );
      return data.createSegment.segment.id;
    }

    /** Writes rules whose condition's property and value are variables, and reads back what was stored. */
    async function rulesThrough(write: (rules: string) => Promise<string>): Promise<unknown> {
      const id = await write('[{ type: "ANY", conditions: [{ property: $h, operator: "IN", value: "a,b" }, { property: "seats", operator: "EQUAL", value: $h }] }]');
      return (await ok('query($id: ID!) { node(id: $id) { ... on Segment { rules } } }', { id })).node.rules;
    }

    /** Traits are flat: the object literal's variables become trait values, read back from the identity. */
    async function traitsThrough(selection: string): Promise<unknown> {
      const identifier = unique('trait-user');
      await ok(`query($i: String, $h: String, $n: Int) { ${selection} }`, { ...vars, i: identifier }, asClient());
      const identity = await server.services.prisma.identity.findFirstOrThrow({ where: { identifier } });
      return identity.traits;
    }

    /** The same over GraphQL-over-SSE: the subscription merges its traits once, when it starts. */
    async function subscriptionTraitsThrough(selection: string): Promise<unknown> {
      const identifier = unique('live-trait-user');
      const live = subscribe(server.url, { query: `subscription($i: String!, $h: String, $n: Int) { ${selection} }` }, { ...vars, i: identifier }, asClient());
      try {
        const first = await live.next();
        expect(first.errors).toBeUndefined();
      } finally {
        live.close();
      }
      // The identity is written beside the stream, not before its first event: wait for it.
      let traits: unknown;
      await eventually(async () => {
        traits = (await server.services.prisma.identity.findFirst({ where: { identifier } }))?.traits;
        return traits !== undefined;
      }, { timeoutMs: 10_000, what: 'the subscriber identity to be stored' });
      return traits;
    }

    it('covers every JSON argument and input field of the schema', async () => {
      const { __schema } = await ok(`{
        __schema { types { name kind
          inputFields { name type { name ofType { name ofType { name ofType { name } } } } }
          fields { name args { name type { name ofType { name ofType { name ofType { name } } } } } }
        } }
      }`);
      type T = { name: string | null; ofType?: T | null };
      const named = (type: T): string | null => type.name ?? (type.ofType ? named(type.ofType) : null);
      const positions: string[] = [];
      for (const type of __schema.types as { name: string; kind: string; inputFields?: { name: string; type: T }[]; fields?: { name: string; args: { name: string; type: T }[] }[] }[]) {
        if (type.name.startsWith('__')) continue;
        for (const field of type.inputFields ?? []) if (named(field.type) === 'JSON') positions.push(`${type.name}.${field.name}`);
        for (const field of type.fields ?? []) for (const arg of field.args) if (named(arg.type) === 'JSON') positions.push(`${type.name}.${field.name}(${arg.name})`);
      }
      expect(positions.sort()).toEqual(Object.keys(cases).sort());
    });

    for (const [position, write] of Object.entries(cases)) {
      it(`substitutes variables inside literals of ${position}`, async () => {
        if (position.startsWith('Query.') || position.startsWith('Subscription.')) {
          expect(await write('', '')).toEqual({ plan: 'Hello', seats: 7, fixed: 'x' });
          return;
        }
        if (position.endsWith('.rules')) {
          const stored = (await write('', '')) as { conditions: { property: string; value: unknown }[] }[];
          expect(stored[0].conditions.map((c) => [c.property, c.value])).toEqual([
            ['Hello', 'a,b'],
            ['seats', 'Hello'],
          ]);
          return;
        }
        for (const literal of literals) expect(await write(literal.text, literal.decl)).toEqual(literal.expected);
      });
    }

    it('uses variable defaults and leaves out absent variables, as GraphQL does', async () => {
      const data = await ok(
        `mutation($p: ID!, $name: String!, $h: String = "dflt", $n: Int) {
          createFeature(input: { projectId: $p, name: $name, initialValue: { a: $h, b: $n, c: [$h] } }) { ... on CreateFeaturePayload { feature { initialValue } } }
        }`,
        { p: projectId, name: unique('defaults') },
      );
      expect(data.createFeature.feature.initialValue).toEqual({ a: 'dflt', c: ['dflt'] });
    });
  });

  describe('text that is not valid Unicode is refused, never rewritten', () => {
    const Record = `mutation($input: RecordExposureInput!) {
      recordExposure(input: $input) { __typename ... on RecordExposurePayload { duplicate exposure { eventId } } ... on Error { code message } }
    }`;

    async function eventIds(feature: string): Promise<string[]> {
      const data = await ok('query($e: ID!, $f: String) { exposures(environmentId: $e, feature: $f, first: 1000) { edges { node { eventId } } } }', {
        e: environmentId,
        f: feature,
      });
      return data.exposures.edges.map((edge: { node: { eventId: string } }) => edge.node.eventId);
    }

    it('answers 400 to a body that is not valid UTF-8 and records nothing', async () => {
      const feature = unique('utf8');
      await ok('mutation($p: ID!, $n: String!) { createFeature(input: { projectId: $p, name: $n }) { __typename } }', { p: projectId, n: feature });
      const send = (eventId: Buffer) =>
        fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-environment-key': environmentKey },
          body: Buffer.concat([
            Buffer.from(JSON.stringify({ query: Record, variables: { input: { feature, identifier: 'u1', variantKey: 'control', eventId: '@@' } } }).split('@@')[0]),
            eventId,
            Buffer.from(JSON.stringify({ query: Record, variables: { input: { feature, identifier: 'u1', variantKey: 'control', eventId: '@@' } } }).split('@@')[1]),
          ]),
        });
      // Three different byte strings that a lenient decoder would all read as "ev-\uFFFD".
      for (const bytes of [[0xff], [0xfe], [0xed, 0xa0, 0x80], [0xc0, 0x80]]) {
        const response = await send(Buffer.concat([Buffer.from('ev-'), Buffer.from(bytes)]));
        expect(response.status).toBe(400);
        const body = (await response.json()) as Reply['body'];
        expect(body.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
      }
      expect(await eventIds(feature)).toEqual([]);
      // Valid UTF-8 still passes.
      expect((await send(Buffer.from('ev-é'))).status).toBe(200);
      expect(await eventIds(feature)).toEqual(['ev-é']);
    });

    it('rejects exposures with lone surrogates (escaped in JSON) item by item, never as U+FFFD', async () => {
      const feature = unique('surrogate');
      await ok('mutation($p: ID!, $n: String!) { createFeature(input: { projectId: $p, name: $n }) { __typename } }', { p: projectId, n: feature });
      for (const eventId of ['ev-\ud800', 'ev-\udc00', 'ev-\udfff\ud800']) {
        const reply = await gql(Record, { input: { feature, identifier: 'u1', variantKey: 'control', eventId } }, asClient());
        expect(reply.body.data?.recordExposure).toMatchObject({ __typename: 'ValidationError', code: 'INVALID_EVENT_ID' });
      }
      // In a batch, the bad items are rejected alone and the others recorded.
      const batch = await gql(
        `mutation($input: RecordExposuresInput!) { recordExposures(input: $input) { ... on RecordExposuresPayload { accepted rejected results { status error { code } } } } }`,
        {
          input: {
            exposures: [
              { feature, identifier: 'u2', variantKey: 'control', eventId: 'ev-\ud800' },
              { feature, identifier: 'u2\u0000', variantKey: 'control', eventId: 'ev-b' },
              { feature, identifier: 'u2', variantKey: 'control', eventId: 'ev-\ud83d\ude00' },
            ],
          },
        },
        asClient(),
      );
      expect(batch.body.data?.recordExposures).toMatchObject({
        accepted: 1,
        rejected: 2,
        results: [{ status: 'REJECTED', error: { code: 'INVALID_EVENT_ID' } }, { status: 'REJECTED', error: { code: 'INVALID_IDENTIFIER' } }, { status: 'ACCEPTED' }],
      });
      expect(await eventIds(feature)).toEqual(['ev-😀']);
    });

    it('refuses GraphQL GET query strings with bad percent-encoded UTF-8 (400) and creates nothing', async () => {
      const query = (identifier: string) => `/graphql?query=${encodeURIComponent('{ flags(identifier: "IDENT") { name } }').replace('IDENT', identifier)}`;
      for (const bad of ['id-%FF', 'id-%ED%A0%80', 'id-%C0%80', 'id-%E2%82']) {
        const response = await fetch(server.url + query(bad), { headers: { 'x-environment-key': environmentKey, accept: 'application/json' } });
        expect(response.status).toBe(400);
      }
      expect(await server.services.prisma.identity.count({ where: { identifier: { startsWith: 'id-' } } })).toBe(0);
      const fine = await fetch(server.url + query('id-%C3%A9'), { headers: { 'x-environment-key': environmentKey, accept: 'application/json' } });
      expect(fine.status).toBe(200);
      expect(await server.services.prisma.identity.count({ where: { identifier: 'id-é' } })).toBe(1);
    });

    it("refuses bad UTF-8 and NUL in the export's query parameters with 400", async () => {
      const exportUrl = (feature: string) =>
        `${server.url}/exports/exposures?environment=${encodeURIComponent(environmentId)}&feature=${feature}`;
      for (const feature of ['a%FF', 'a%ED%A0%80', 'a%00b', '%00']) {
        const response = await fetch(exportUrl(feature), { headers: { authorization: `Bearer ${server.analyticsToken}` } });
        expect(response.status).toBe(400);
        const body = (await response.json()) as Reply['body'];
        expect(body.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
      }
      const bad = await fetch(`${server.url}/exports/exposures?environment=${encodeURIComponent(environmentId)}%FF`, {
        headers: { authorization: `Bearer ${server.analyticsToken}` },
      });
      expect(bad.status).toBe(400);
    });
  });

  describe('NUL and lone surrogates in any string or JSON input', () => {
    const CreateProject = 'mutation($input: CreateProjectInput!) { createProject(input: $input) { __typename ... on Error { code } } }';

    it('refuses them in variables of every kind with INVALID_INPUT naming the path, and changes nothing', async () => {
      const before = await countProjects();
      const attempts: { query: string; variables: Record<string, unknown>; path: string; headers?: Record<string, string> }[] = [
        { query: CreateProject, variables: { input: { name: 'a\u0000b' } }, path: '$input.name' },
        { query: CreateProject, variables: { input: { name: 'ok', environments: ['dev', 'x\ud800'] } }, path: '$input.environments[1]' },
        {
          query: 'mutation($input: CreateFeatureInput!) { createFeature(input: $input) { __typename } }',
          variables: { input: { projectId, name: 'nul-desc', description: 'd\u0000' } },
          path: '$input.description',
        },
        {
          query: 'mutation($input: CreateFeatureInput!) { createFeature(input: $input) { __typename } }',
          variables: { input: { projectId, name: 'nul-json', initialValue: { list: [1, { deep: 'x\u0000' }] } } },
          path: '$input.initialValue.list[1].deep',
        },
        {
          query: 'mutation($input: CreateFeatureInput!) { createFeature(input: $input) { __typename } }',
          variables: { input: { projectId, name: 'key-json', initialValue: { ['k\udc00']: 1 } } },
          path: '$input.initialValue',
        },
        {
          query: 'mutation($input: CreateFeatureInput!) { createFeature(input: $input) { __typename } }',
          variables: { input: { projectId, name: 'opt', options: [{ key: 'a', name: 'n\u0000' }] } },
          path: '$input.options[0].name',
        },
        {
          query: 'mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { __typename } }',
          variables: { input: { name: 'tok\u0000', scopes: ['ADMIN'] } },
          path: '$input.name',
        },
        {
          query: 'query($e: ID!, $i: String) { exposures(environmentId: $e, identifier: $i) { edges { cursor } } }',
          variables: { e: environmentId, i: 'who\u0000' },
          path: '$i',
        },
        { query: 'query($t: JSON) { flags(identifier: "nul-traits", traits: $t) { name } }', variables: { t: { plan: 'p\u0000' } }, path: '$t.plan', headers: asClient() },
        { query: 'query($i: String) { flags(identifier: $i) { name } }', variables: { i: 'x\ud800' }, path: '$i', headers: asClient() },
      ];
      for (const attempt of attempts) {
        const reply = await gql(attempt.query, attempt.variables, attempt.headers);
        expect(reply.body.errors?.[0]?.extensions?.code, JSON.stringify(reply.body)).toBe('INVALID_INPUT');
        expect(reply.body.errors?.[0]?.message).toContain(`"${attempt.path}"`);
        expect(reply.body.data ?? null).toBeNull();
      }
      expect(await countProjects()).toBe(before);
      expect(await server.services.prisma.identity.count({ where: { identifier: 'nul-traits' } })).toBe(0);
      expect(await server.services.prisma.apiToken.count({ where: { name: { startsWith: 'tok' } } })).toBe(0);
    });

    it('refuses NUL in string literals of the document (escaped), naming the argument', async () => {
      const before = await countProjects();
      for (const [query, path] of [
        ['mutation { createProject(input: { name: "a\\u0000b" }) { __typename } }', 'input.name'],
        ['mutation { createProject(input: { name: "ok", environments: ["dev", "b\\u0000"] }) { __typename } }', 'input.environments[1]'],
        [`mutation { createFeature(input: { projectId: "${projectId}", name: "lit", initialValue: { a: ["\\u0000"] } }) { __typename } }`, 'input.initialValue.a[0]'],
        ['mutation { createProject(input: { name: """block\u0000""" }) { __typename } }', 'input.name'],
      ]) {
        const reply = await gql(query, {});
        expect(reply.body.errors?.[0]?.extensions?.code, JSON.stringify(reply.body)).toBe('INVALID_INPUT');
        expect(reply.body.errors?.[0]?.message).toContain(`"${path}"`);
      }
      expect(await countProjects()).toBe(before);
    });
  });

  describe('deep JSON', () => {
    const nested = (depth: number): unknown => {
      let value: unknown = 'leaf';
      for (let i = 0; i < depth; i++) value = i % 2 ? { k: value } : [value];
      return value;
    };
    const nestedText = (depth: number): string => {
      let text = '"leaf"';
      for (let i = 0; i < depth; i++) text = i % 2 ? `{"k":${text}}` : `[${text}]`;
      return text;
    };
    const literal = (depth: number): string => '['.repeat(depth) + '1' + ']'.repeat(depth);
    const Create = 'mutation($input: CreateFeatureInput!) { createFeature(input: $input) { __typename ... on CreateFeaturePayload { feature { initialValue } } } }';

    it(`accepts ${INPUT_JSON_DEPTH_MAX} levels and refuses more, 5,000 too, in a variable`, async () => {
      const atLimit = await ok(Create, { input: { projectId, name: unique('deep'), initialValue: nested(INPUT_JSON_DEPTH_MAX) } });
      expect(atLimit.createFeature.feature.initialValue).toEqual(nested(INPUT_JSON_DEPTH_MAX));
      for (const depth of [INPUT_JSON_DEPTH_MAX + 1, 5000]) {
        // Written by hand: JSON.stringify itself recurses.
        const body = `{"query":${JSON.stringify(Create)},"variables":{"input":{"projectId":${JSON.stringify(projectId)},"name":"${unique('deep')}","initialValue":${nestedText(depth)}}}}`;
        const response = await server.post(body, { authorization: `Bearer ${server.adminToken}` });
        const reply = (await response.json()) as Reply['body'];
        expect(reply.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
        expect(reply.errors?.[0]?.message).toContain('$input.initialValue');
        expect(reply.errors?.[0]?.message).toContain(String(INPUT_JSON_DEPTH_MAX));
      }
      const traits = await server.post(`{"query":"query($t: JSON) { flags(identifier: \\"deep\\", traits: $t) { name } }","variables":{"t":{"a":${nestedText(5000)}}}}`, asClient());
      expect(((await traits.json()) as Reply['body']).errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
      expect(await server.services.prisma.identity.count({ where: { identifier: 'deep' } })).toBe(0);
      expect(await countProjects()).toBeGreaterThan(0);
    });

    it('refuses a JSON literal nested deeper than the limit', async () => {
      const query = (depth: number, name: string) =>
        `mutation { createFeature(input: { projectId: "${projectId}", name: "${name}", initialValue: ${literal(depth)} }) { __typename ... on CreateFeaturePayload { feature { initialValue } } } }`;
      const fine = await ok(query(INPUT_JSON_DEPTH_MAX, unique('lit')));
      expect(fine.createFeature.feature.initialValue).toEqual(JSON.parse(literal(INPUT_JSON_DEPTH_MAX)));
      const name = unique('lit');
      const reply = await gql(query(INPUT_JSON_DEPTH_MAX + 1, name));
      expect(reply.body.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
      expect(reply.body.errors?.[0]?.message).toContain('input.initialValue');
    });
  });

  describe('variables the schema refuses', () => {
    it('answers an Int variable outside 32 bits with a typed error, never an internal one', async () => {
      for (const first of [2147483648, -2147483649, 1e300, 1.5]) {
        const reply = await gql('query($n: Int) { projects(first: $n) { edges { cursor } } }', { n: first });
        expect(reply.body.errors?.length, JSON.stringify(reply.body)).toBe(1);
        expect(reply.body.errors?.[0]?.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
        expect(reply.body.errors?.[0]?.message).toMatch(/\$n/);
      }
    });
  });

  describe('error messages echo only a short prefix of input', () => {
    const huge = 'x'.repeat(100_000);
    // No message may carry more than ECHO_MAX characters of any one input.
    const tooLong = new RegExp(`x{${ECHO_MAX + 1}}`);

    it('in typed errors, GraphQL errors and the export', async () => {
      const longName = 'x'.repeat(100);
      const createProject = `mutation($n: String!) { createProject(input: { name: $n }) { __typename ... on Error { code message } } }`;
      await ok(createProject, { n: longName });
      const featureName = 'x'.repeat(150);
      const createFeature = `mutation($p: ID!, $n: String!) { createFeature(input: { projectId: $p, name: $n }) { __typename ... on Error { code message } } }`;
      await ok(createFeature, { p: projectId, n: featureName });
      const replies: Reply[] = [
        await gql(createProject, { n: longName }),
        await gql(createFeature, { p: projectId, n: featureName }),
        await gql('mutation($p: ID!, $n: String!) { createEnvironment(input: { projectId: $p, name: $n }) { __typename ... on Error { code message } } }', { p: projectId, n: 'dev' }),
        await gql('query($e: ID!, $f: String!) { experimentSummary(environmentId: $e, feature: $f) { __typename } }', { e: environmentId, f: huge }),
        await gql('query($t: JSON) { flags(identifier: "echo", traits: $t) { name } }', { t: { ['x'.repeat(150)]: { nested: true } } }, asClient()),
        await gql('query($t: JSON) { flags(identifier: "echo", traits: $t) { name } }', { t: { ['x'.repeat(150)]: 'x'.repeat(3000) } }, asClient()),
        await gql('query($n: Int) { projects(first: $n) { edges { cursor } } }', { n: huge }),
        await gql(`{ projects(first: "${huge}") { edges { cursor } } }`),
        await gql(`{ ${huge} }`),
        await gql(
          'mutation($input: RecordExposureInput!) { recordExposure(input: $input) { ... on Error { code message } } }',
          { input: { feature: huge, identifier: 'u', variantKey: 'control' } },
          asClient(),
        ),
        await gql('mutation($input: CreateFeatureInput!) { createFeature(input: $input) { __typename } }', {
          input: { projectId, name: 'n', initialValue: { [`${huge}\u0000`]: 1 } },
        }),
      ];
      for (const reply of replies) {
        const text = JSON.stringify(reply.body);
        expect(text.includes('"message"'), text.slice(0, 300)).toBe(true);
        expect(text, text.slice(0, 300)).not.toMatch(tooLong);
      }
      const response = await fetch(`${server.url}/exports/exposures?environment=${encodeURIComponent(environmentId)}&feature=${'x'.repeat(5000)}`, {
        headers: { authorization: `Bearer ${server.analyticsToken}` },
      });
      expect(response.status).toBe(404);
      expect(await response.text()).not.toMatch(tooLong);
    });
  });
});
