// The migration that makes exposures reference their option by (id, key) applies to a database
// that already holds exposures whose option's key was changed under them.
import { afterAll, describe, expect, it } from 'vitest';
import { databaseBefore, databaseKinds, insertBaseRows, type TestDatabase } from '../../test/helpers/databases.js';
import { migrate } from './migrator.js';

const GUARD = '20261201100000_exposure_option_key_guard';

describe.each(databaseKinds)('the option key guard migration on %s', (kind) => {
  const opened: TestDatabase[] = [];
  afterAll(async () => {
    for (const database of opened) await database.dispose();
  });

  it('re-points or unlinks exposures whose option no longer has their key, then guards', async () => {
    const database = await databaseBefore(kind, GUARD);
    opened.push(database);

    const ids = await database.db.withSession(async (s) => {
      const { environment: env, feature, insertId: q } = await insertBaseRows(s);
      const option = (key: string, priority: number) =>
        q(`INSERT INTO "MultivariateOption" ("featureId", key, value, priority, "updatedAt") VALUES ($1, $2, '1', $3, now()) RETURNING id`, [feature, key, priority]);
      const renamed = await option('old', 1);
      const other = await option('other', 2);
      const identity = await q(`INSERT INTO "Identity" ("environmentId", identifier, "updatedAt") VALUES ($1, 'u', now()) RETURNING id`, [env]);
      const expose = (optionId: number | null, key: string) =>
        q(
          `INSERT INTO "Exposure" ("environmentId", "featureId", "optionId", "variantKey", "identityId", "exposedAt", source, "matchesAssignment")
           VALUES ($1, $2, $3, $4, $5, now(), 'CLIENT', true) RETURNING id`,
          [env, feature, optionId, key, identity],
        );
      const stranded = await expose(renamed, 'old');
      const moved = await expose(renamed, 'other');
      const fine = await expose(other, 'other');
      await s.query(`UPDATE "MultivariateOption" SET key = 'new' WHERE id = $1`, [renamed]);
      return { renamed, other, stranded, moved, fine };
    });

    // The guard and every migration after it.
    expect((await migrate(database.db)).applied).toEqual(database.pending);
    const rows = await database.db.withSession((s) =>
      s.query<{ id: number; optionId: number | null; variantKey: string }>(`SELECT id::int, "optionId", "variantKey" FROM "Exposure" ORDER BY id`),
    );
    expect(rows).toEqual([
      { id: ids.stranded, optionId: null, variantKey: 'old' },
      { id: ids.moved, optionId: ids.other, variantKey: 'other' },
      { id: ids.fine, optionId: ids.other, variantKey: 'other' },
    ]);
    await expect(
      database.db.withSession((s) => s.query(`UPDATE "MultivariateOption" SET key = 'again' WHERE id = $1`, [ids.other])),
    ).rejects.toThrow();
  });
});
