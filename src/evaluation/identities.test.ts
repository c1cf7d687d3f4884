// The identity store's lastSeenAt write, against real databases: a write that finds the row as
// this process knew it keeps the identity's object (what `flags` remembers for it stays valid,
// see memo.ts); one that finds the row changed by someone else hands out a new one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../../test/helpers/databases.js';
import { eventually } from '../../test/helpers/eventually.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import { IDENTITY_TOUCH_INTERVAL_MS } from '../identities/last-seen.js';
import { IdentityStore } from './identities.js';

describe.each(databaseKinds)('identity store on %s', (kind) => {
  let server: TestServer;
  let environmentId: number;
  let clock = Date.now();
  let writes = 0;
  let store: IdentityStore;

  beforeAll(async () => {
    server = await startTestServer(kind);
    environmentId = (await server.services.prisma.environment.findFirstOrThrow({ where: { project: { name: 'Demo' }, name: 'development' } })).id;
    store = new IdentityStore(server.services.prisma, () => writes++, () => clock);
  });
  afterAll(() => server?.close());

  /** Past the minute: the returning identity is answered at once and its lastSeenAt written behind. */
  async function touch(identifier: string) {
    clock += IDENTITY_TOUCH_INTERVAL_MS + 1;
    const before = writes;
    const answered = store.resolve(environmentId, identifier, undefined);
    expect(answered).not.toBeInstanceOf(Promise);
    await eventually(() => writes > before && store.known(environmentId, identifier) !== undefined, { timeoutMs: 10_000, what: 'the lastSeenAt write' });
    // The write is done once its waiters ran: the next resolve is quiet again.
    await eventually(() => store.resolve(environmentId, identifier, undefined) === store.known(environmentId, identifier), { timeoutMs: 10_000, what: 'the remembered row' });
    return answered;
  }

  it('keeps the object when the lastSeenAt write finds the row unchanged', async () => {
    const first = await store.resolve(environmentId, 'keeps', { plan: 'pro' });
    await touch('keeps');
    expect(store.known(environmentId, 'keeps')).toBe(first);
  });

  it('hands out a new object when another writer changed the traits meanwhile', async () => {
    const first = await store.resolve(environmentId, 'changed', { plan: 'free' });
    await server.services.prisma.identity.update({ where: { environmentId_identifier: { environmentId, identifier: 'changed' } }, data: { traits: { plan: 'pro' } } });
    expect(await touch('changed')).toBe(first);
    const after = store.known(environmentId, 'changed');
    expect(after).not.toBe(first);
    expect(after?.traits).toEqual({ plan: 'pro' });
  });
});
