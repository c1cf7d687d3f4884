// Identities as `flags` meets them: created on first sight, traits merged, lastSeenAt kept
// fresh to about a minute, without a database write on every request.
//
// - An identity seen by this process within IDENTITY_TOUCH_INTERVAL_MS whose request brings no trait
//   change costs no SQL at all.
// - A known identity whose last write is older than the interval, with no trait change, is
//   answered at once; its lastSeenAt upsert follows behind the answer.
// - Anything else (new identity, changed traits, overrides changed meanwhile) is one upsert
//   that the answer waits for; upserts of requests that arrive together are merged into one statement. Only
//   storable input enters a merged statement, and a merged statement that fails anyway is
//   retried identity by identity: one caller's failure stays its own.
import { isDeepStrictEqual } from 'node:util';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { isValidIdentifier, UNSTORABLE_TEXT } from '../identities/identifier.js';
import { IDENTITY_TOUCH_INTERVAL_MS } from '../identities/last-seen.js';
import { invalidInput, type Traits } from './inputs.js';

/** An identity's own override of a feature. */
export interface StoredIdentityOverride {
  enabled: boolean;
  /** Absent: the feature state's value. */
  value?: unknown;
}

export interface KnownIdentity {
  id: number;
  identifier: string;
  /** The merged traits as stored. */
  traits: Traits;
  /** Its overrides by feature id, read with it. */
  overrides: ReadonlyMap<number, StoredIdentityOverride>;
}

interface SeenIdentity extends KnownIdentity {
  /** When this process last wrote the row (-Infinity: only read it). */
  writtenAt: number;
  /** The environment's generation when the row was read: older ones are stale. */
  generation: number;
  /** Rows only read (`stored`) are used until then; rows this process wrote, until replaced. */
  expiresAt: number;
}

interface OverrideRow {
  featureId: number;
  enabled: boolean;
  inherit: boolean;
  value: unknown;
}

interface IdentityRow {
  id: number;
  environmentId: number;
  identifier: string;
  traits: Traits;
  overrides: OverrideRow[] | null;
}

interface PendingUpsert {
  environmentId: number;
  identifier: string;
  /** Trait changes in arrival order; null deletes a trait. */
  patch: Traits;
  waiters: { resolve: (identity: KnownIdentity) => void; reject: (error: unknown) => void }[];
}

interface PendingRead {
  environmentId: number;
  identifier: string;
  waiters: { resolve: (identity: KnownIdentity | undefined) => void; reject: (error: unknown) => void }[];
}

const MAX_REMEMBERED = 100_000;
/**
 * How long a row read by `stored` answers without SQL. Only evaluation writes traits, and this
 * process's writes replace the row at once; identity overrides bump the generation (here and,
 * by notice, in other processes). What this bounds is a trait change made through another
 * process, as IDENTITY_TOUCH_INTERVAL_MS bounds lastSeenAt.
 */
export const STORED_IDENTITY_TTL_MS = 10_000;
const MAX_BATCH = 500;
const NO_OVERRIDES: ReadonlyMap<number, StoredIdentityOverride> = new Map();

/** An identity's overrides as read (none: it has none, or does not exist), and when. */
interface OverrideLookup {
  overrides: ReadonlyMap<number, StoredIdentityOverride>;
  generation: number;
  readAt: number;
}

export class IdentityStore {
  private readonly seen = new Map<string, SeenIdentity>();
  private pending = new Map<string, PendingUpsert>();
  private flushScheduled = false;
  /** Identities whose lastSeenAt write behind an answer is queued or in flight: one at a time. */
  private readonly touching = new Set<string>();
  private reads = new Map<string, PendingRead>();
  private readsScheduled = false;
  /** Bumped when an environment's identity overrides may have changed (any config change). */
  private readonly generations = new Map<number, number>();
  private allGeneration = 0;
  /** Overrides read for callers that must not create identities (OpenFeature), found or not. */
  private readonly lookups = new Map<string, OverrideLookup>();
  private readonly pendingLookups = new Map<string, { generation: number; reading: Promise<ReadonlyMap<number, StoredIdentityOverride>> }>();
  constructor(
    private readonly prisma: PrismaClient,
    /** Sees every upsert statement issued (tests count them). */
    private readonly onStatement: () => void = () => {},
    private readonly now: () => number = Date.now,
    /** Sees every read statement issued (tests count them). */
    private readonly onRead: () => void = () => {},
  ) {}

  /** What this process knows of an identity, without SQL; undefined when unknown or stale. */
  known(environmentId: number, identifier: string): KnownIdentity | undefined {
    const seen = this.seen.get(memoryKey(environmentId, identifier));
    return seen && seen.generation === this.generation(environmentId) && seen.expiresAt > this.now() ? seen : undefined;
  }

  /**
   * The identity as stored (memory when current, else one read, remembered for
   * STORED_IDENTITY_TTL_MS), without creating or touching it.
   */
  stored(environmentId: number, identifier: string): KnownIdentity | undefined | Promise<KnownIdentity | undefined> {
    const known = this.known(environmentId, identifier);
    if (known) return known;
    if (!isValidIdentifier(identifier)) return undefined;
    return this.read(environmentId, identifier);
  }

  /**
   * The identity's overrides, without creating or touching it: from what this process knows
   * (synchronous), else one read, remembered whether the identity exists or not until the
   * environment's next config change (identity overrides are config: every change of one is
   * announced) and at most IDENTITY_TOUCH_INTERVAL_MS, as a `flags` identity is.
   */
  overrides(environmentId: number, identifier: string): ReadonlyMap<number, StoredIdentityOverride> | Promise<ReadonlyMap<number, StoredIdentityOverride>> {
    const key = memoryKey(environmentId, identifier);
    const generation = this.generation(environmentId);
    // Written by `flags` lately: as fresh as a read (a lost notice is bounded by the same minute).
    const seen = this.seen.get(key);
    if (seen && seen.generation === generation && this.now() - seen.writtenAt < IDENTITY_TOUCH_INTERVAL_MS) return seen.overrides;
    const lookup = this.lookups.get(key);
    if (lookup && lookup.generation === generation && this.now() - lookup.readAt < IDENTITY_TOUCH_INTERVAL_MS) return lookup.overrides;
    if (!isValidIdentifier(identifier)) return NO_OVERRIDES;
    const pending = this.pendingLookups.get(key);
    if (pending && pending.generation === generation) return pending.reading;
    const readAt = this.now();
    const reading = this.read(environmentId, identifier)
      .then((identity) => {
        const overrides = identity && identity.overrides.size > 0 ? identity.overrides : NO_OVERRIDES;
        // Read before an invalidation that happened meanwhile: answered, not remembered.
        if (this.generation(environmentId) === generation) remember(this.lookups, key, { overrides, generation, readAt });
        return overrides;
      })
      .finally(() => {
        if (this.pendingLookups.get(key)?.reading === reading) this.pendingLookups.delete(key);
      });
    this.pendingLookups.set(key, { generation, reading });
    return reading;
  }

  /**
   * One read; the reads asked for while the process is busy with other requests are merged
   * into one statement (single exposure reports arrive many at a time).
   */
  private read(environmentId: number, identifier: string): Promise<KnownIdentity | undefined> {
    const key = memoryKey(environmentId, identifier);
    let waiting = this.reads.get(key);
    if (!waiting) {
      this.reads.set(key, (waiting = { environmentId, identifier, waiters: [] }));
      if (this.reads.size >= MAX_BATCH) this.flushReads();
      else if (!this.readsScheduled) {
        this.readsScheduled = true;
        setImmediate(() => this.flushReads());
      }
    }
    const { waiters } = waiting;
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  }

  private flushReads(): void {
    this.readsScheduled = false;
    if (this.reads.size === 0) return;
    const batch = [...this.reads.values()];
    this.reads = new Map();
    void this.readBatch(batch).catch((error: unknown) => {
      for (const item of batch) for (const waiter of item.waiters) waiter.reject(error);
    });
  }

  private async readBatch(batch: PendingRead[]): Promise<void> {
    this.onRead();
    // Read before the query: an invalidation during it makes what it returns stale.
    const generations = new Map(batch.map((item) => [item.environmentId, this.generation(item.environmentId)]));
    const rows = await this.prisma.$queryRaw<IdentityRow[]>`
      SELECT i."id", i."environmentId", i."identifier", i."traits", ${OVERRIDES_OF_I} AS "overrides"
      FROM "Identity" i
      JOIN unnest(${batch.map((item) => item.environmentId)}::int[], ${batch.map((item) => item.identifier)}::text[]) AS w("environmentId", identifier)
        ON i."environmentId" = w."environmentId" AND i."identifier" = w.identifier`;
    const byKey = new Map(rows.map((row) => [memoryKey(row.environmentId, row.identifier), row]));
    const expiresAt = this.now() + STORED_IDENTITY_TTL_MS;
    for (const item of batch) {
      const key = memoryKey(item.environmentId, item.identifier);
      const row = byKey.get(key);
      const identity = row ? toKnown(row) : undefined;
      const generation = generations.get(item.environmentId)!;
      // A current row this process wrote meanwhile is as fresh: it stays.
      const current = this.seen.get(key);
      if (identity && (!current || current.writtenAt === -Infinity || current.generation !== generation)) {
        this.remember(key, { ...identity, writtenAt: -Infinity, generation, expiresAt });
      }
      for (const waiter of item.waiters) waiter.resolve(identity);
    }
  }

  /**
   * Forgets what this process read of the environments' identities (an identity override
   * may have changed); undefined: of every environment.
   */
  invalidate(environmentIds: number[] | undefined): void {
    if (environmentIds === undefined) {
      this.allGeneration++;
      return;
    }
    for (const id of environmentIds) this.generations.set(id, (this.generations.get(id) ?? 0) + 1);
  }

  private generation(environmentId: number): number {
    return this.allGeneration * 1e9 + (this.generations.get(environmentId) ?? 0);
  }

  /**
   * The identity (created when new) with `patch` merged into its traits. Synchronous when
   * nothing needs writing.
   */
  resolve(environmentId: number, identifier: string, patch: Traits | undefined): KnownIdentity | Promise<KnownIdentity> {
    const key = memoryKey(environmentId, identifier);
    const seen = this.seen.get(key);
    const now = this.now();
    if (seen && seen.generation === this.generation(environmentId) && seen.expiresAt > now && !changesTraits(seen.traits, patch)) {
      if (now - seen.writtenAt < IDENTITY_TOUCH_INTERVAL_MS) return seen;
      // Only lastSeenAt is due: it is written behind the answer, which cannot depend on it (the
      // identity exists and its traits stay). The write replaces the remembered row when done;
      // should it fail, the next request tries again.
      if (!this.touching.has(key)) {
        this.touching.add(key);
        this.enqueue(key, environmentId, identifier, {})
          .catch(() => {})
          .finally(() => this.touching.delete(key));
      }
      return seen;
    }
    return this.enqueue(key, environmentId, identifier, patch ?? {});
  }

  private enqueue(key: string, environmentId: number, identifier: string, patch: Traits): Promise<KnownIdentity> {
    const unstorable = unstorableInput(identifier, patch);
    if (unstorable) return Promise.reject(invalidInput(unstorable));
    return new Promise<KnownIdentity>((resolve, reject) => {
      const pending = this.pending.get(key);
      if (pending) {
        Object.assign(pending.patch, patch);
        pending.waiters.push({ resolve, reject });
      } else {
        // A null-prototype copy: merging a trait named "__proto__" stays a plain property.
        const copy: Traits = Object.assign(Object.create(null) as Traits, patch);
        this.pending.set(key, { environmentId, identifier, patch: copy, waiters: [{ resolve, reject }] });
      }
      if (this.pending.size >= MAX_BATCH) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        // After the current I/O phase: requests that arrived together share one statement.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    void this.write(batch);
  }

  private async write(batch: PendingUpsert[]): Promise<void> {
    try {
      await this.upsert(batch);
    } catch (error) {
      if (batch.length === 1) {
        for (const waiter of batch[0].waiters) waiter.reject(error);
        return;
      }
      // Which member failed is unknown: each is written on its own.
      await Promise.all(
        batch.map((item) =>
          this.upsert([item]).catch((own: unknown) => {
            for (const waiter of item.waiters) waiter.reject(own);
          }),
        ),
      );
    }
  }

  /** One statement for the batch; settles its waiters on success, throws on failure. */
  private async upsert(batch: PendingUpsert[]): Promise<void> {
    // A fixed row order: concurrent batches lock the same rows in the same order (no deadlock).
    batch.sort((a, b) => a.environmentId - b.environmentId || (a.identifier < b.identifier ? -1 : a.identifier > b.identifier ? 1 : 0));
    const input = JSON.stringify(batch.map(({ environmentId, identifier, patch }) => ({ environmentId, identifier, traits: patch })));
    this.onStatement();
    const writtenAt = this.now();
    // Read before the statement: an invalidation during it makes what it returns stale.
    const generations = new Map(batch.map((item) => [item.environmentId, this.generation(item.environmentId)]));
    // Null trait values delete the trait (jsonb_strip_nulls after the merge), as in Flagsmith.
    const rows = await this.prisma.$queryRaw<IdentityRow[]>`
      WITH input AS (
        SELECT * FROM jsonb_to_recordset(${input}::jsonb) AS r("environmentId" int, "identifier" text, "traits" jsonb)
      )
      INSERT INTO "Identity" AS i ("environmentId", "identifier", "traits", "lastSeenAt", "updatedAt")
      SELECT "environmentId", "identifier", jsonb_strip_nulls("traits"), now(), now() FROM input
      ORDER BY "environmentId", "identifier"
      ON CONFLICT ("environmentId", "identifier") DO UPDATE SET
        "traits" = jsonb_strip_nulls(i."traits" || (
          SELECT input."traits" FROM input
          WHERE input."environmentId" = EXCLUDED."environmentId" AND input."identifier" = EXCLUDED."identifier")),
        "lastSeenAt" = now(),
        "updatedAt" = now()
      RETURNING i."id", i."environmentId", i."identifier", i."traits", ${OVERRIDES_OF_I} AS "overrides"`;
    const byKey = new Map(rows.map((row) => [memoryKey(row.environmentId, row.identifier), row]));
    for (const item of batch) {
      const key = memoryKey(item.environmentId, item.identifier);
      const row = byKey.get(key);
      if (!row) {
        for (const waiter of item.waiters) waiter.reject(new Error(`identity upsert returned no row for ${key}`));
        continue;
      }
      const known = toKnown(row);
      const generation = generations.get(item.environmentId) ?? -1;
      // A row that came back as this process knew it (a lastSeenAt write, most often) keeps its
      // object: what is remembered for it (memo.ts) stays valid.
      const current = this.seen.get(key);
      const identity: SeenIdentity =
        current && sameIdentity(current, known) ? Object.assign(current, { writtenAt, generation, expiresAt: Infinity }) : { ...known, writtenAt, generation, expiresAt: Infinity };
      this.remember(key, identity);
      for (const waiter of item.waiters) waiter.resolve(identity);
    }
  }

  private remember(key: string, identity: SeenIdentity): void {
    remember(this.seen, key, identity);
  }
}

/** Bounded memory: re-inserting moves the key to the end, so the first keys are the least recently written. */
function remember<T>(map: Map<string, T>, key: string, value: T): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) {
    let excess = map.size - MAX_REMEMBERED * 0.9;
    for (const oldest of map.keys()) {
      if (excess-- <= 0) break;
      map.delete(oldest);
    }
  }
}

/** The overrides of the identity row `i`, as one JSON array (SQL NULL value: inherit). */
const OVERRIDES_OF_I = Prisma.sql`(
  SELECT jsonb_agg(jsonb_build_object('featureId', o."featureId", 'enabled', o."enabled", 'inherit', o."value" IS NULL, 'value', o."value"))
  FROM "IdentityOverride" o WHERE o."identityId" = i."id")`;

function toKnown(row: IdentityRow): KnownIdentity {
  const overrides = new Map<number, StoredIdentityOverride>();
  for (const o of row.overrides ?? []) overrides.set(o.featureId, o.inherit ? { enabled: o.enabled } : { enabled: o.enabled, value: o.value });
  return { id: row.id, identifier: row.identifier, traits: row.traits ?? {}, overrides };
}

/** The same stored identity: its id, traits and overrides. */
function sameIdentity(a: KnownIdentity, b: KnownIdentity): boolean {
  return a.id === b.id && a.identifier === b.identifier && isDeepStrictEqual(a.traits, b.traits) && isDeepStrictEqual(a.overrides, b.overrides);
}

/** Input PostgreSQL cannot store: checked again here, as it would fail a shared statement. */
function unstorableInput(identifier: string, patch: Traits): string | undefined {
  if (!isValidIdentifier(identifier)) return 'identifier is not a storable identifier';
  for (const name in patch) {
    const value = patch[name];
    if (UNSTORABLE_TEXT.test(name) || (typeof value === 'string' && UNSTORABLE_TEXT.test(value))) {
      return 'traits cannot hold NUL or unpaired surrogates';
    }
    if (typeof value === 'number' && !Number.isFinite(value)) return 'trait numbers must be finite';
  }
  return undefined;
}

function memoryKey(environmentId: number, identifier: string): string {
  return `${environmentId}:${identifier}`;
}

/** Whether merging `patch` into `traits` would change them (null = delete). */
function changesTraits(traits: Traits, patch: Traits | undefined): boolean {
  if (!patch) return false;
  for (const name in patch) {
    const value = patch[name];
    if (value === null ? Object.hasOwn(traits, name) : traits[name] !== value) return true;
  }
  return false;
}
