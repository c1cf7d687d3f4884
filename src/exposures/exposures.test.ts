import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../../test/generated/index.js';
import { databaseKinds } from '../../test/helpers/databases.js';
import { CreateProject as NewProject } from '../../test/helpers/documents.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import { type ExposureRow, ExposureWriter } from './store.js';

const RecordOne = graphql(`
  mutation ExposuresTestRecordOne($input: RecordExposureInput!) {
    recordExposure(input: $input) {
      __typename
      ... on RecordExposurePayload {
        duplicate
        exposure { id databaseId feature variantKey identifier exposedAt receivedAt source matchesAssignment eventId }
      }
      ... on Error { code message }
      ... on ValidationError { path }
    }
  }
`);

const RecordBatch = graphql(`
  mutation ExposuresTestRecordBatch($input: RecordExposuresInput!) {
    recordExposures(input: $input) {
      __typename
      ... on RecordExposuresPayload {
        accepted
        duplicates
        rejected
        results {
          index
          status
          exposure { databaseId variantKey identifier feature eventId exposedAt matchesAssignment source }
          error { __typename code message ... on ValidationError { path } }
        }
      }
      ... on BatchTooLargeError { code message limit size }
    }
  }
`);

const AssignedFlag = graphql(`
  query ExposuresTestFlag($name: String!, $identifier: String, $recordExposures: Boolean) {
    flag(name: $name, identifier: $identifier, recordExposures: $recordExposures) { name variant }
  }
`);

type Input = { feature: string; identifier: string; variantKey: string; exposedAt?: string; eventId?: string };

describe.each(databaseKinds)('recording exposures on %s', (kind) => {
  let server: TestServer;
  let key: string;
  let environmentId: number;
  let featureId: number;
  /** A row as the service hands it to ExposureWriter, for tests that drive the writer directly. */
  const writerRow = (identifier: string, variantKey = 'control', optionId: number | null = null): ExposureRow => ({
    environmentId,
    featureId,
    optionId,
    variantKey,
    identifier,
    exposedAt: new Date(),
    receivedAt: new Date(),
    eventId: null,
    source: 'CLIENT',
    matchesAssignment: false,
  });
  const client = () => ({ environmentKey: key });
  const prisma = () => server.services.prisma;

  beforeAll(async () => {
    server = await startTestServer(kind);
    key = server.demo.environments.find((e) => e.name === 'development')!.key;
    environmentId = (await prisma().environment.findUniqueOrThrow({ where: { key } })).id;
    featureId = (await prisma().feature.findFirstOrThrow({ where: { name: 'checkout_button', project: { name: 'Demo' } } })).id;
  });
  afterAll(() => server?.close());

  const one = async (input: Input) => (await server.data(RecordOne, { input }, client())).recordExposure;
  const batch = async (exposures: Input[]) => (await server.data(RecordBatch, { input: { exposures } }, client())).recordExposures;
  const assignment = (identifier: string, feature = featureId) =>
    prisma().assignment.findFirst({ where: { environmentId, featureId: feature, identity: { identifier } } });
  const exposureCount = (where: Record<string, unknown> = {}) => prisma().exposure.count({ where: { environmentId, ...where } });
  const assigned = async (identifier: string) =>
    (await server.data(AssignedFlag, { name: 'checkout_button', identifier }, client())).flag!.variant!;

  it('records an exposure, creating the identity on first sight, with matchesAssignment from evaluation', async () => {
    const identifier = 'first-sight';
    expect(await prisma().identity.count({ where: { environmentId, identifier } })).toBe(0);
    const served = await assigned(identifier);
    const other = ['variant_a', 'variant_b', 'control'].find((k) => k !== served)!;

    const exposedAt = new Date(Date.now() - 60_000).toISOString();
    const hit = await one({ feature: 'checkout_button', identifier, variantKey: served, exposedAt });
    if (hit.__typename !== 'RecordExposurePayload') throw new Error(JSON.stringify(hit));
    expect(hit.duplicate).toBe(false);
    expect(hit.exposure).toMatchObject({
      feature: 'checkout_button',
      identifier,
      variantKey: served,
      exposedAt,
      source: 'CLIENT',
      matchesAssignment: true,
      eventId: null,
    });
    expect(new Date(hit.exposure.receivedAt).getTime()).toBeGreaterThanOrEqual(new Date(exposedAt).getTime());

    const miss = await one({ feature: 'checkout_button', identifier, variantKey: other });
    expect(miss).toMatchObject({ duplicate: false, exposure: { variantKey: other, matchesAssignment: false } });

    const identity = await prisma().identity.findUniqueOrThrow({ where: { environmentId_identifier: { environmentId, identifier } } });
    const rows = await prisma().exposure.findMany({ where: { identityId: identity.id }, orderBy: { id: 'asc' } });
    expect(rows.map((r) => [r.variantKey, r.matchesAssignment, r.source])).toEqual([
      [served, true, 'CLIENT'],
      [other, false, 'CLIENT'],
    ]);
    const options = await prisma().multivariateOption.findMany({ where: { featureId } });
    expect(rows[0].optionId).toBe(served === 'control' ? null : options.find((o) => o.key === served)!.id);
    expect(await assignment(identifier)).toMatchObject({
      firstVariantKey: served,
      firstExposedAt: new Date(exposedAt),
      exposureCount: 2,
      variantKeys: [served, other].sort(),
    });
  });

  it('answers every rule with its error code, writing nothing for a rejected report', async () => {
    const before = await exposureCount();
    const ok = { feature: 'checkout_button', identifier: 'rules', variantKey: 'variant_a' };
    const cases: [Input, string, string][] = [
      [{ ...ok, feature: 'no_such_feature' }, 'FEATURE_NOT_FOUND', 'feature'],
      [{ ...ok, feature: 'bad name\u0000' }, 'FEATURE_NOT_FOUND', 'feature'],
      [{ ...ok, variantKey: 'variant_z' }, 'UNKNOWN_VARIANT_KEY', 'variantKey'],
      [{ ...ok, variantKey: 'Control' }, 'UNKNOWN_VARIANT_KEY', 'variantKey'],
      [{ ...ok, identifier: '' }, 'INVALID_IDENTIFIER', 'identifier'],
      [{ ...ok, identifier: 'x'.repeat(2001) }, 'INVALID_IDENTIFIER', 'identifier'],
      [{ ...ok, identifier: 'nul\u0000byte' }, 'INVALID_IDENTIFIER', 'identifier'],
      [{ ...ok, identifier: 'lone \ud800 surrogate' }, 'INVALID_IDENTIFIER', 'identifier'],
      // 1000 characters, 3000 bytes: more than the identity index can hold.
      [{ ...ok, identifier: '€'.repeat(1000) }, 'INVALID_IDENTIFIER', 'identifier'],
      [{ ...ok, exposedAt: new Date(Date.now() + 6 * 60_000).toISOString() }, 'INVALID_TIMESTAMP', 'exposedAt'],
      [{ ...ok, exposedAt: '1999-12-31T23:59:59.999Z' }, 'INVALID_TIMESTAMP', 'exposedAt'],
      [{ ...ok, eventId: '' }, 'INVALID_EVENT_ID', 'eventId'],
      [{ ...ok, eventId: 'e'.repeat(201) }, 'INVALID_EVENT_ID', 'eventId'],
    ];
    for (const [input, code, field] of cases) {
      expect(await one(input), `${code} ${field}`).toMatchObject({ __typename: 'ValidationError', code, path: [field] });
    }
    expect(await exposureCount()).toBe(before);
    expect(await prisma().identity.count({ where: { environmentId, identifier: 'rules' } })).toBe(0);

    // The limits themselves are fine: 2000 characters (varied: nothing for the index to compress),
    // 200-character eventId, 4 minutes ahead, control.
    const edge = await one({
      ...ok,
      identifier: Array.from({ length: 2000 }, (_, i) => String.fromCharCode(33 + ((i * 7919) % 94))).join(''),
      eventId: 'e'.repeat(200),
      variantKey: 'control',
      exposedAt: new Date(Date.now() + 4 * 60_000).toISOString(),
    });
    expect(edge).toMatchObject({ __typename: 'RecordExposurePayload', duplicate: false, exposure: { variantKey: 'control' } });
    expect(await exposureCount()).toBe(before + 1);
  });

  it('refuses a batch over 1000 items whole, and takes exactly 1000', async () => {
    const before = await exposureCount();
    const item = (i: number): Input => ({ feature: 'checkout_button', identifier: `bulk-${i % 300}`, variantKey: i % 3 ? 'variant_a' : 'control' });
    const tooMany = await batch(Array.from({ length: 1001 }, (_, i) => item(i)));
    expect(tooMany).toMatchObject({ __typename: 'BatchTooLargeError', code: 'BATCH_TOO_LARGE', limit: 1000, size: 1001 });
    expect(await exposureCount()).toBe(before);
    expect(await prisma().identity.count({ where: { environmentId, identifier: { startsWith: 'bulk-' } } })).toBe(0);

    const full = await batch(Array.from({ length: 1000 }, (_, i) => ({ ...item(i), eventId: `bulk-${i}` })));
    if (full.__typename !== 'RecordExposuresPayload') throw new Error(full.__typename);
    expect([full.accepted, full.duplicates, full.rejected]).toEqual([1000, 0, 0]);
    expect(full.results.map((r) => r.index)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(full.results.every((r, i) => r.status === 'ACCEPTED' && r.exposure?.eventId === `bulk-${i}` && r.exposure.identifier === `bulk-${i % 300}`)).toBe(true);
    expect(await exposureCount()).toBe(before + 1000);
    expect(await prisma().identity.count({ where: { environmentId, identifier: { startsWith: 'bulk-' } } })).toBe(300);
    const assignments = await prisma().assignment.findMany({ where: { environmentId, identity: { identifier: { startsWith: 'bulk-' } } } });
    expect(assignments).toHaveLength(300);
    expect(assignments.reduce((sum, a) => sum + a.exposureCount, 0)).toBe(1000);
    // Identity bulk-k gets items k, k+300, ...: all with the key of k % 3.
    const identities = await prisma().identity.findMany({ where: { id: { in: assignments.map((a) => a.identityId) } } });
    const identifierOf = new Map(identities.map((i) => [i.id, i.identifier]));
    for (const a of assignments) {
      const k = Number(identifierOf.get(a.identityId)!.slice('bulk-'.length));
      expect([a.variantKeys, a.exposureCount]).toEqual([[k % 3 ? 'variant_a' : 'control'], k < 100 ? 4 : 3]);
    }
  });

  it('makes a report idempotent by eventId: a repeat returns the original and counts nothing', async () => {
    const input = { feature: 'checkout_button', identifier: 'retry-seq', variantKey: 'variant_b', eventId: 'evt-seq-1' };
    const first = await one(input);
    const again = await one({ ...input, variantKey: 'variant_a', exposedAt: new Date().toISOString() });
    if (first.__typename !== 'RecordExposurePayload' || again.__typename !== 'RecordExposurePayload') throw new Error('expected payloads');
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(again.exposure).toEqual(first.exposure);
    expect(await exposureCount({ eventId: 'evt-seq-1' })).toBe(1);
    expect(await assignment('retry-seq')).toMatchObject({ exposureCount: 1, variantKeys: ['variant_b'] });
  });

  it('keeps one row when 20 identical requests race, and gives every caller the original', async () => {
    const input = { feature: 'checkout_button', identifier: 'retry-race', variantKey: 'variant_a', eventId: 'evt-race-1' };
    const answers = await Promise.all(Array.from({ length: 20 }, () => one(input)));
    const payloads = answers.map((a) => {
      if (a.__typename !== 'RecordExposurePayload') throw new Error(JSON.stringify(a));
      return a;
    });
    expect(payloads.filter((p) => !p.duplicate)).toHaveLength(1);
    expect(new Set(payloads.map((p) => p.exposure.id)).size).toBe(1);
    expect(await exposureCount({ eventId: 'evt-race-1' })).toBe(1);
    expect(await assignment('retry-race')).toMatchObject({ exposureCount: 1 });

    // The same with racing batches that share their eventIds.
    const items = Array.from({ length: 30 }, (_, i) => ({ ...input, identifier: `race-batch-${i % 7}`, eventId: `evt-race-batch-${i}` }));
    const batches = await Promise.all(Array.from({ length: 6 }, (_, b) => batch(b % 2 ? [...items].reverse() : items)));
    let accepted = 0;
    for (const result of batches) {
      if (result.__typename !== 'RecordExposuresPayload') throw new Error(result.__typename);
      accepted += result.accepted;
      expect(result.accepted + result.duplicates).toBe(30);
    }
    expect(accepted).toBe(30);
    expect(await exposureCount({ eventId: { startsWith: 'evt-race-batch-' } })).toBe(30);
    const counts = await prisma().assignment.findMany({ where: { environmentId, identity: { identifier: { startsWith: 'race-batch-' } } } });
    expect(counts.reduce((sum, a) => sum + a.exposureCount, 0)).toBe(30);
  });

  // Two server processes need a shared database: PGlite is one process's (its directory is locked).
  it.runIf(kind === 'postgres')('keeps one row when retries race through two server processes on one database', async () => {
    const second = await startTestServer(kind, { database: server.database, keepDatabase: true });
    try {
      const input = { feature: 'checkout_button', identifier: 'retry-two-servers', variantKey: 'variant_b', eventId: 'evt-two-servers' };
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? second : server).data(RecordOne, { input }, client()).then((d) => d.recordExposure)),
      );
      const payloads = answers.map((a) => {
        if (a.__typename !== 'RecordExposurePayload') throw new Error(JSON.stringify(a));
        return a;
      });
      expect(payloads.filter((p) => !p.duplicate)).toHaveLength(1);
      expect(new Set(payloads.map((p) => p.exposure.id)).size).toBe(1);
      expect(await exposureCount({ eventId: 'evt-two-servers' })).toBe(1);
      expect(await assignment('retry-two-servers')).toMatchObject({ exposureCount: 1 });
    } finally {
      await second.close();
    }
  });

  it('answers a mixed batch item by item, in order', async () => {
    await one({ feature: 'checkout_button', identifier: 'mixed', variantKey: 'variant_a', eventId: 'mixed-old' });
    const result = await batch([
      { feature: 'checkout_button', identifier: 'mixed', variantKey: 'variant_b', eventId: 'mixed-1' },
      { feature: 'nope', identifier: 'mixed', variantKey: 'variant_b' },
      { feature: 'checkout_button', identifier: 'mixed', variantKey: 'variant_a', eventId: 'mixed-1' },
      { feature: 'checkout_button', identifier: 'mixed-2', variantKey: 'control' },
      { feature: 'checkout_button', identifier: 'mixed', variantKey: 'variant_q' },
      { feature: 'checkout_button', identifier: 'mixed', variantKey: 'variant_b', eventId: 'mixed-old' },
      { feature: 'checkout_button', identifier: '', variantKey: 'variant_b' },
    ]);
    if (result.__typename !== 'RecordExposuresPayload') throw new Error(result.__typename);
    expect(result.results.map((r) => [r.index, r.status, r.error?.code ?? null])).toEqual([
      [0, 'ACCEPTED', null],
      [1, 'REJECTED', 'FEATURE_NOT_FOUND'],
      [2, 'DUPLICATE', null],
      [3, 'ACCEPTED', null],
      [4, 'REJECTED', 'UNKNOWN_VARIANT_KEY'],
      [5, 'DUPLICATE', null],
      [6, 'REJECTED', 'INVALID_IDENTIFIER'],
    ]);
    expect([result.accepted, result.duplicates, result.rejected]).toEqual([2, 2, 3]);
    expect(result.results[1].error).toMatchObject({ __typename: 'ValidationError', path: ['exposures', '1', 'feature'] });
    // A repeat inside the batch is the first occurrence; a repeat of an earlier report is the original.
    expect(result.results[2].exposure).toEqual(result.results[0].exposure);
    expect(result.results[5].exposure).toMatchObject({ eventId: 'mixed-old', variantKey: 'variant_a' });
    expect(result.results[1].exposure).toBeNull();
    expect(await assignment('mixed')).toMatchObject({ exposureCount: 2, variantKeys: ['variant_a', 'variant_b'] });
  });

  it('accepts late events of archived features and archived options, and keys of options added since', async () => {
    const feature = await prisma().feature.create({
      data: {
        projectId: (await prisma().project.findFirstOrThrow({ where: { name: 'Demo' } })).id,
        name: 'archived_test',
        initialValue: 'x',
        options: { create: [{ key: 'old', value: 'o', defaultWeight: 50, priority: 1 }] },
      },
    });
    expect(await one({ feature: 'archived_test', identifier: 'late', variantKey: 'old' })).toMatchObject({ duplicate: false });
    await prisma().feature.update({ where: { id: feature.id }, data: { archivedAt: new Date() } });
    await prisma().multivariateOption.updateMany({ where: { featureId: feature.id }, data: { archivedAt: new Date() } });
    await prisma().multivariateOption.create({ data: { featureId: feature.id, key: 'added_later', value: 'n', defaultWeight: 0, priority: 2 } });
    await server.services.configChanges.announce([environmentId]);
    const late = await batch([
      { feature: 'archived_test', identifier: 'late', variantKey: 'old' },
      { feature: 'archived_test', identifier: 'late', variantKey: 'added_later' },
      { feature: 'archived_test', identifier: 'late', variantKey: 'control' },
    ]);
    expect(late).toMatchObject({ accepted: 3, rejected: 0 });
    // Not live in the environment: evaluation assigns nothing, so nothing matches.
    expect(late.__typename === 'RecordExposuresPayload' && late.results.map((r) => r.exposure?.matchesAssignment)).toEqual([false, false, false]);
  });

  it('refuses a key whose option was deleted since it was last seen, not with an internal error', async () => {
    const feature = await prisma().feature.create({
      data: {
        projectId: (await prisma().project.findFirstOrThrow({ where: { name: 'Demo' } })).id,
        name: 'stale_test',
        initialValue: 'x',
        options: { create: [{ key: 'kept', value: 'k', defaultWeight: 10, priority: 1 }, { key: 'dropped', value: 'd', defaultWeight: 10, priority: 2 }] },
      },
    });
    expect(await one({ feature: 'stale_test', identifier: 'stale', variantKey: 'kept' })).toMatchObject({ duplicate: false });
    // Deleted without a change notice reaching this process (as from another server process).
    await prisma().multivariateOption.deleteMany({ where: { featureId: feature.id, key: 'dropped' } });
    expect(await one({ feature: 'stale_test', identifier: 'stale', variantKey: 'dropped' })).toMatchObject({ code: 'UNKNOWN_VARIANT_KEY' });
    expect(await one({ feature: 'stale_test', identifier: 'stale', variantKey: 'kept' })).toMatchObject({ duplicate: false });
  });

  it('writes nothing of a batch that fails in the database', async () => {
    // A trigger makes the database itself refuse one row, after others of the batch went in.
    await prisma().$executeRawUnsafe(`
      CREATE FUNCTION exposures_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW."variantKey" = 'variant_b' AND (SELECT "identifier" FROM "Identity" WHERE "id" = NEW."identityId") = 'boom' THEN
          RAISE EXCEPTION 'refused by test trigger';
        END IF;
        RETURN NEW;
      END $$`);
    await prisma().$executeRawUnsafe(
      `CREATE TRIGGER exposures_test_refuse BEFORE INSERT ON "Exposure" FOR EACH ROW EXECUTE FUNCTION exposures_test_refuse()`,
    );
    try {
      const before = { exposures: await exposureCount(), identities: await prisma().identity.count(), assignment: await assignment('fail-0') };
      await one({ feature: 'checkout_button', identifier: 'fail-0', variantKey: 'variant_a' });
      const withFirst = await assignment('fail-0');
      const items: Input[] = Array.from({ length: 200 }, (_, i) => ({
        feature: 'checkout_button',
        identifier: `fail-${i % 40}`,
        variantKey: 'variant_a',
        eventId: `fail-${i}`,
      }));
      items.push({ feature: 'checkout_button', identifier: 'boom', variantKey: 'variant_b', eventId: 'fail-last' });
      // Reports of other callers written at the same time (merged into the same statement
      // when they arrive together) are not taken down with it.
      const others = Array.from({ length: 10 }, (_, i) => ({ feature: 'checkout_button', identifier: `bystander-${i}`, variantKey: 'variant_b' }));
      const [response, ...bystanders] = await Promise.all([
        server.request(RecordBatch, { input: { exposures: items } }, client()),
        ...others.map((input) => one(input)),
      ]);
      expect(bystanders.every((b) => b.__typename === 'RecordExposurePayload' && !b.duplicate)).toBe(true);
      expect(await exposureCount({ identity: { identifier: { startsWith: 'bystander-' } } })).toBe(10);
      expect(response.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(JSON.stringify(response.errors)).not.toMatch(/refused|INSERT|"Exposure"/);
      expect(await exposureCount()).toBe(before.exposures + 1 + 10);
      expect(await exposureCount({ eventId: { startsWith: 'fail-' } })).toBe(0);
      expect(await prisma().identity.count()).toBe(before.identities + 1 + 10);
      expect(await assignment('fail-0')).toEqual(withFirst);
      expect(before.assignment).toBeNull();

      // The same, deterministically merged: with one statement in flight, the next two writes
      // queue and go out as one statement, which fails; each is then written on its own.
      const writer = new ExposureWriter(prisma(), 1);
      const options = await prisma().multivariateOption.findMany({ where: { featureId } });
      const row = (identifier: string, variantKey: string) => writerRow(identifier, variantKey, options.find((o) => o.key === variantKey)?.id ?? null);
      const first = writer.write([row('merge-1', 'control')]);
      const failing = writer.write([row('merge-2', 'control'), row('boom', 'variant_b')]);
      const third = writer.write([row('merge-3', 'control')]);
      const settled = await Promise.allSettled([first, failing, third]);
      expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(writer.statements).toBe(4); // first; the merged one; then the two on their own
      expect(await prisma().identity.count({ where: { environmentId, identifier: { in: ['merge-1', 'merge-2', 'merge-3', 'boom'] } } })).toBe(2);
    } finally {
      await prisma().$executeRawUnsafe(`DROP TRIGGER exposures_test_refuse ON "Exposure"`);
      await prisma().$executeRawUnsafe(`DROP FUNCTION exposures_test_refuse()`);
    }
  });

  it('sends small writes that arrive while a statement is in flight as one statement, a large one beside it', async () => {
    const writer = new ExposureWriter(prisma(), 5);
    const row = (identifier: string) => writerRow(identifier);
    const first = writer.write([row('group-0')]);
    const small = Array.from({ length: 10 }, (_, i) => writer.write([row(`group-${i + 1}`)]));
    // Room for five statements, but ten single rows wait for the one in flight.
    expect(writer.statements).toBe(1);
    const large = writer.write(Array.from({ length: 64 }, (_, i) => row(`group-large-${i}`)));
    // Enough rows to be worth a statement of their own: the waiting ones go out with them, now.
    expect(writer.statements).toBe(2);
    const written = await Promise.all([first, ...small, large]);
    expect(writer.statements).toBe(2);
    expect(written.map((w) => w.length)).toEqual([1, ...small.map(() => 1), 64]);
    expect(written.flat().every((w) => w.exposure !== undefined)).toBe(true);
    expect(await prisma().identity.count({ where: { environmentId, identifier: { startsWith: 'group-' } } })).toBe(75);
  });

  it('keeps Assignment exact after out-of-order events: a late, earlier event moves the first variant', async () => {
    const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 12, minutes)).toISOString();
    const base = { feature: 'checkout_button', identifier: 'ooo' };
    await one({ ...base, variantKey: 'variant_a', exposedAt: at(30) });
    expect(await assignment('ooo')).toMatchObject({ firstVariantKey: 'variant_a', firstExposedAt: new Date(at(30)), lastExposedAt: new Date(at(30)) });
    await one({ ...base, variantKey: 'variant_b', exposedAt: at(10) });
    await one({ ...base, variantKey: 'variant_a', exposedAt: at(50) });
    // A tie with the stored first keeps the stored one.
    await one({ ...base, variantKey: 'control', exposedAt: at(10) });
    await batch([
      { ...base, variantKey: 'variant_a', exposedAt: at(40) },
      { ...base, variantKey: 'control', exposedAt: at(5) },
      { ...base, variantKey: 'variant_b', exposedAt: at(5) },
      { ...base, variantKey: 'variant_b', exposedAt: at(20) },
    ]);
    expect(await assignment('ooo')).toMatchObject({
      firstVariantKey: 'control',
      firstExposedAt: new Date(at(5)),
      lastExposedAt: new Date(at(50)),
      exposureCount: 8,
      variantKeys: ['control', 'variant_a', 'variant_b'],
    });
  });

  it('keeps Assignment exact under concurrent batches for one identity', async () => {
    const identifiers = ['conc-1', 'conc-2', 'conc-3'];
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const keys = ['variant_a', 'variant_b', 'control'];
    const batches = Array.from({ length: 8 }, (_, b) =>
      Array.from({ length: 40 }, (_, i) => ({
        feature: 'checkout_button',
        identifier: identifiers[(b + i) % identifiers.length],
        variantKey: keys[Math.floor(random() * 3)],
        // Distinct times, so that "first" has exactly one answer.
        exposedAt: new Date(Date.UTC(2026, 1, 1) + Math.floor(random() * 1e6) * 1000 + b * 40 + i).toISOString(),
      })),
    );
    const results = await Promise.all(batches.map((items) => batch(items)));
    expect(results.every((r) => r.__typename === 'RecordExposuresPayload' && r.accepted === 40)).toBe(true);

    for (const identifier of identifiers) {
      const mine = batches.flat().filter((e) => e.identifier === identifier).sort((a, b) => a.exposedAt.localeCompare(b.exposedAt));
      expect(await assignment(identifier)).toMatchObject({
        firstVariantKey: mine[0].variantKey,
        firstExposedAt: new Date(mine[0].exposedAt),
        lastExposedAt: new Date(mine.at(-1)!.exposedAt),
        exposureCount: mine.length,
        variantKeys: [...new Set(mine.map((e) => e.variantKey))].sort(),
      });
    }
  });

  it('records in the caller\'s own project only', async () => {
    const created = await server.data(NewProject, { input: { name: 'Other shop' } });
    if (created.createProject.__typename !== 'CreateProjectPayload') throw new Error(created.createProject.__typename);
    const otherKey = created.createProject.project.environments[0].key;
    const demoCount = await exposureCount();
    const asOther = (input: Input) => server.data(RecordOne, { input }, { environmentKey: otherKey });

    const input = { feature: 'checkout_button', identifier: 'cross', variantKey: 'variant_a', eventId: 'cross-1' };
    expect((await asOther(input)).recordExposure).toMatchObject({ code: 'FEATURE_NOT_FOUND' });

    // With a feature of the same name there, it records there, under its own eventId space.
    const otherEnvironment = await prisma().environment.findUniqueOrThrow({ where: { key: otherKey } });
    const otherFeature = await prisma().feature.create({
      data: {
        projectId: otherEnvironment.projectId,
        name: 'checkout_button',
        initialValue: 'x',
        options: { create: [{ key: 'variant_a', value: 'a', defaultWeight: 50, priority: 1 }] },
      },
    });
    expect(await one(input)).toMatchObject({ duplicate: false });
    expect((await asOther(input)).recordExposure).toMatchObject({ duplicate: false, exposure: { eventId: 'cross-1' } });
    expect(await exposureCount()).toBe(demoCount + 1);
    const there = await prisma().exposure.findMany({ where: { environmentId: otherEnvironment.id } });
    expect(there.map((e) => [e.featureId, e.eventId])).toEqual([[otherFeature.id, 'cross-1']]);
  });

  it('is for clients only', async () => {
    const input = { feature: 'checkout_button', identifier: 'auth', variantKey: 'variant_a' };
    const anonymous = await server.request(RecordOne, { input }, { headers: {} });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const admin = await server.request(RecordOne, { input });
    expect(admin.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const wrongKey = await server.request(RecordOne, { input }, { environmentKey: 'env_0000000000000000000000' });
    expect(wrongKey.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await prisma().identity.count({ where: { identifier: 'auth' } })).toBe(0);
  });

  it('records SERVER exposures for what flag(recordExposures: true) serves', async () => {
    const identifier = 'served-by-server';
    const { flag } = await server.data(AssignedFlag, { name: 'checkout_button', identifier, recordExposures: true }, client());
    const rows = await prisma().exposure.findMany({ where: { environmentId, identity: { identifier } } });
    expect(rows.map((r) => [r.source, r.variantKey, r.matchesAssignment, r.eventId])).toEqual([['SERVER', flag!.variant, true, null]]);
    await server.data(AssignedFlag, { name: 'checkout_button', identifier, recordExposures: true }, client());
    expect(await assignment(identifier)).toMatchObject({ firstVariantKey: flag!.variant, exposureCount: 2, variantKeys: [flag!.variant] });
  });
});
