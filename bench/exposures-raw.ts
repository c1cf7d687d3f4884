// The raw ceiling of benchmark (b): the rows of a batch written straight through `pg`, with
// no GraphQL, no validation and no Prisma, by several set-based SQL shapes. Each does the
// whole job the server does (identities upserted, exposures inserted with the eventId
// conflict check, Assignment merged) atomically, and returns the number of exposures written.
import type pg from 'pg';
import { exposureParameters, exposureQuery, exposureText, type ExposureRow, FIRST_ROW_PARAMETER } from '../src/exposures/store.js';
import type { Item } from './exposure-load.js';

export interface RawContext {
  environmentId: number;
  featureIdByName: Map<string, number>;
  /** `${featureId}:${key}` -> option id. */
  optionId: Map<string, number>;
}

export type RawBatch = (client: pg.PoolClient, context: RawContext, items: Item[]) => Promise<number>;

export async function rawContext(pool: pg.Pool, environmentKey: string): Promise<RawContext> {
  const { rows: [environment] } = await pool.query<{ id: number; projectId: number }>('SELECT id, "projectId" FROM "Environment" WHERE key = $1', [environmentKey]);
  const { rows } = await pool.query<{ featureId: number; name: string; optionId: number; key: string }>(
    'SELECT f.id AS "featureId", f.name, o.id AS "optionId", o.key FROM "Feature" f JOIN "MultivariateOption" o ON o."featureId" = f.id WHERE f."projectId" = $1',
    [environment.projectId],
  );
  return {
    environmentId: environment.id,
    featureIdByName: new Map(rows.map((r) => [r.name, r.featureId])),
    optionId: new Map(rows.map((r) => [`${r.featureId}:${r.key}`, r.optionId])),
  };
}

export function toRows(context: RawContext, items: Item[]): ExposureRow[] {
  const receivedAt = new Date();
  return items.map((item) => {
    const featureId = context.featureIdByName.get(item.feature)!;
    return {
      environmentId: context.environmentId,
      featureId,
      optionId: item.variantKey === 'control' ? null : context.optionId.get(`${featureId}:${item.variantKey}`)!,
      variantKey: item.variantKey,
      identifier: item.identifier,
      exposedAt: new Date(item.exposedAt),
      receivedAt,
      eventId: item.eventId,
      source: 'CLIENT' as const,
      matchesAssignment: false,
    };
  });
}

/** The server's statement (src/exposures/store.ts): one array parameter per column (unnest). */
const cteUnnest: RawBatch = async (client, context, items) => {
  const { text, values } = exposureQuery(toRows(context, items));
  const { rows: result } = await client.query<{ inserted: boolean }>(text, values);
  return result.filter((r) => r.inserted).length;
};

/**
 * Statements in one transaction: identities (known ones read, missing ones upserted, stale
 * lastSeenAt refreshed), exposures
 * (unnest ... ON CONFLICT DO NOTHING RETURNING), then Assignment from those rows aggregated
 * in the client (unnest ... ON CONFLICT DO UPDATE).
 */
const transactionUnnest: RawBatch = async (client, context, items) => {
  const rows = toRows(context, items);
  const now = new Date();
  const env = context.environmentId;
  await client.query('BEGIN');
  try {
    const identifiers = [...new Set(rows.map((r) => r.identifier))].sort();
    const known = await client.query<{ id: number; identifier: string }>(
      'SELECT id, identifier FROM "Identity" WHERE "environmentId" = $1 AND identifier = ANY($2::text[])',
      [env, identifiers],
    );
    const knownSet = new Set(known.rows.map((r) => r.identifier));
    const created = await client.query<{ id: number; identifier: string }>(
      `INSERT INTO "Identity" AS n ("environmentId", identifier, "lastSeenAt", "updatedAt")
       SELECT $1, x, $2, $2 FROM unnest($3::text[]) AS x
       ON CONFLICT ("environmentId", identifier) DO UPDATE SET "lastSeenAt" = GREATEST(n."lastSeenAt", EXCLUDED."lastSeenAt")
       RETURNING id, identifier`,
      [env, now, identifiers.filter((x) => !knownSet.has(x))],
    );
    await client.query(
      `UPDATE "Identity" SET "lastSeenAt" = $1 WHERE id IN (
         SELECT id FROM "Identity" WHERE id = ANY($2::int[]) AND "lastSeenAt" < $3 FOR NO KEY UPDATE SKIP LOCKED)`,
      [now, known.rows.map((r) => r.id), new Date(now.getTime() - 60_000)],
    );
    const identities = { rows: [...known.rows, ...created.rows] };
    const identityId = new Map(identities.rows.map((r) => [r.identifier, r.id]));
    const ordered = [...rows].sort((x, y) => (x.eventId! < y.eventId! ? -1 : 1));
    const inserted = await client.query<{ featureId: number; identityId: number; variantKey: string; exposedAt: Date }>(
      `INSERT INTO "Exposure" ("environmentId", "featureId", "optionId", "variantKey", "identityId", "exposedAt", "receivedAt", "eventId", source, "matchesAssignment", "updatedAt")
       SELECT $1, f, o, k, i, t, $2, e, 'CLIENT', m, $2
       FROM unnest($3::int[], $4::int[], $5::text[], $6::int[], $7::timestamptz[], $8::text[], $9::bool[]) AS u(f, o, k, i, t, e, m)
       ON CONFLICT ("environmentId", "eventId") DO NOTHING
       RETURNING "featureId", "identityId", "variantKey", "exposedAt"`,
      [
        env,
        now,
        ordered.map((r) => r.featureId),
        ordered.map((r) => r.optionId),
        ordered.map((r) => r.variantKey),
        ordered.map((r) => identityId.get(r.identifier)!),
        ordered.map((r) => r.exposedAt),
        ordered.map((r) => r.eventId),
        ordered.map((r) => r.matchesAssignment),
      ],
    );
    const merged = new Map<string, { f: number; i: number; first: string; firstAt: Date; lastAt: Date; n: number; keys: Set<string> }>();
    for (const r of inserted.rows) {
      const key = `${r.featureId}:${r.identityId}`;
      const m = merged.get(key);
      if (!m) merged.set(key, { f: r.featureId, i: r.identityId, first: r.variantKey, firstAt: r.exposedAt, lastAt: r.exposedAt, n: 1, keys: new Set([r.variantKey]) });
      else {
        if (r.exposedAt < m.firstAt) [m.first, m.firstAt] = [r.variantKey, r.exposedAt];
        if (r.exposedAt > m.lastAt) m.lastAt = r.exposedAt;
        m.n += 1;
        m.keys.add(r.variantKey);
      }
    }
    const groups = [...merged.values()].sort((x, y) => x.f - y.f || x.i - y.i);
    await client.query(
      `INSERT INTO "Assignment" AS a ("environmentId", "featureId", "identityId", "firstVariantKey", "firstExposedAt", "lastExposedAt", "exposureCount", "variantKeys", "updatedAt")
       SELECT $1, f, i, k, ft, lt, n, string_to_array(ks, ','), $2
       FROM unnest($3::int[], $4::int[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::int[], $9::text[]) AS u(f, i, k, ft, lt, n, ks)
       ON CONFLICT ("environmentId", "featureId", "identityId") DO UPDATE SET
         "firstVariantKey" = CASE WHEN EXCLUDED."firstExposedAt" < a."firstExposedAt" THEN EXCLUDED."firstVariantKey" ELSE a."firstVariantKey" END,
         "firstExposedAt" = LEAST(a."firstExposedAt", EXCLUDED."firstExposedAt"),
         "lastExposedAt" = GREATEST(a."lastExposedAt", EXCLUDED."lastExposedAt"),
         "exposureCount" = a."exposureCount" + EXCLUDED."exposureCount",
         "variantKeys" = ARRAY(SELECT DISTINCT x COLLATE "C" FROM unnest(a."variantKeys" || EXCLUDED."variantKeys") AS v(x) ORDER BY 1),
         "updatedAt" = EXCLUDED."updatedAt"`,
      [
        env,
        now,
        groups.map((g) => g.f),
        groups.map((g) => g.i),
        groups.map((g) => g.first),
        groups.map((g) => g.firstAt),
        groups.map((g) => g.lastAt),
        groups.map((g) => g.n),
        groups.map((g) => [...g.keys].sort().join(',')),
      ],
    );
    await client.query('COMMIT');
    return inserted.rowCount ?? 0;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
};

/** The server's statement, with the rows as one multi-row VALUES list instead of unnest arrays. */
const cteValues: RawBatch = async (client, context, items) => {
  const rows = toRows(context, items);
  const values: unknown[] = exposureParameters(rows);
  const param = (value: unknown, type: string) => `$${values.push(value)}::${type}`;
  const tuples = rows.map(
    (r, i) =>
      `(${param(i, 'int')}, ${param(r.environmentId, 'int')}, ${param(r.featureId, 'int')}, ${param(r.optionId, 'int')}, ${param(r.variantKey, 'text')}, ` +
      `${param(r.identifier, 'text')}, ${param(r.exposedAt, 'timestamptz')}, ${param(r.receivedAt, 'timestamptz')}, ${param(r.eventId, 'text')}, ` +
      `${param(r.source, '"ExposureSource"')}, ${param(r.matchesAssignment, 'bool')})`,
  );
  const relation = `SELECT * FROM (VALUES ${tuples.join(', ')})
    AS t(item, "environmentId", "featureId", "optionId", "variantKey", identifier, "exposedAt", "receivedAt", "eventId", source, "matchesAssignment")`;
  const { rows: result } = await client.query<{ inserted: boolean }>(exposureText(relation), values);
  return result.filter((r) => r.inserted).length;
};

/** The server's statement with the rows as one JSON parameter (json_to_recordset). */
const JSON_ROWS = `
    SELECT * FROM json_to_recordset($${FIRST_ROW_PARAMETER}::json) AS t(item int, "environmentId" int, "featureId" int, "optionId" int, "variantKey" text,
      identifier text, "exposedAt" timestamptz, "receivedAt" timestamptz, "eventId" text, source "ExposureSource", "matchesAssignment" bool)`;
const cteJson: RawBatch = async (client, context, items) => {
  const rows = toRows(context, items);
  const json = JSON.stringify(rows.map((r, item) => ({ item, ...r })));
  const { rows: result } = await client.query<{ inserted: boolean }>(exposureText(JSON_ROWS), [...exposureParameters(rows), json]);
  return result.filter((r) => r.inserted).length;
};

export const RAW_VARIANTS: Record<string, RawBatch> = {
  "one statement, unnest arrays (the server's SQL)": cteUnnest,
  'one statement, json_to_recordset': cteJson,
  'transaction of 5 statements, unnest arrays': transactionUnnest,
  'one statement, multi-row VALUES': cteValues,
};

/**
 * (b1): one row, as the server writes a single report, with the server's own statement
 * (src/exposures/store.ts), straight through `pg`. Returns the rows written (0 or 1).
 */
export async function singleRowStatement(client: pg.PoolClient, context: RawContext, item: Item): Promise<number> {
  // Named (prepared per connection) exactly as the server sends it.
  const { rows: result } = await client.query<{ inserted: boolean }>(exposureQuery(toRows(context, [item])));
  return result.filter((r) => r.inserted).length;
}
