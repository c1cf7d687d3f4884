// The migration that keeps assignment per experiment iteration fills it from the exposures
// already stamped with an iteration, as the exposure statement would have; the one after it
// keeps of each row the first exposure and whether the identity saw another key.
import { afterAll, describe, expect, it } from 'vitest';
import { databaseBefore, databaseKinds, insertBaseRows, type TestDatabase } from '../../test/helpers/databases.js';
import { migrate } from './migrator.js';

const MIGRATION = '20261216000000_experiment_assignments';

describe.each(databaseKinds)('the experiment assignment migration on %s', (kind) => {
  const opened: TestDatabase[] = [];
  afterAll(async () => {
    for (const database of opened) await database.dispose();
  });

  it('backfills one row per iteration and identity: first by (exposedAt, id), conflicted when another key followed', async () => {
    const database = await databaseBefore(kind, MIGRATION);
    opened.push(database);

    const ids = await database.db.withSession(async (s) => {
      const { environment: env, feature, insertId: q } = await insertBaseRows(s);
      const experiment = await q(`INSERT INTO "Experiment" ("environmentId", "featureId", name, status, "updatedAt") VALUES ($1, $2, 'x', 'STOPPED', now()) RETURNING id`, [env, feature]);
      for (const number of [1, 2]) {
        await s.query(
          `INSERT INTO "ExperimentIteration" ("experimentId", number, "startedAt", "stoppedAt", allocation) VALUES ($1, $2, '2026-01-0${number} 00:00Z', '2026-01-0${number} 12:00Z', '[]')`,
          [experiment, number],
        );
      }
      const identity = (name: string) => q(`INSERT INTO "Identity" ("environmentId", identifier, "updatedAt") VALUES ($1, $2, now()) RETURNING id`, [env, name]);
      const ann = await identity('ann');
      const bob = await identity('bob');
      const expose = (identityId: number, key: string, at: string, iteration: number | null) =>
        q(
          `INSERT INTO "Exposure" ("environmentId", "featureId", "variantKey", "identityId", "exposedAt", source, "matchesAssignment", "experimentId", iteration)
           VALUES ($1, $2, $3, $4, $5, 'CLIENT', true, $6, $7) RETURNING id`,
          [env, feature, key, identityId, at, iteration === null ? null : experiment, iteration],
        );
      // Iteration 1: ann sees b, then (same instant, higher id) a, then b again; bob sees control.
      const annFirst = await expose(ann, 'b', '2026-01-01 10:00Z', 1);
      await expose(ann, 'a', '2026-01-01 10:00Z', 1);
      await expose(ann, 'b', '2026-01-01 11:00Z', 1);
      const bobFirst = await expose(bob, 'control', '2026-01-01 10:30Z', 1);
      // Iteration 2: ann sees a (her first there, not her first ever); outside every iteration: ignored.
      const annSecond = await expose(ann, 'a', '2026-01-02 10:00Z', 2);
      await expose(ann, 'b', '2026-01-03 10:00Z', null);
      return { experiment, ann, bob, annFirst, bobFirst, annSecond };
    });

    expect((await migrate(database.db)).applied).toEqual(database.pending);
    const rows = await database.db.withSession((s) =>
      s.query(
        `SELECT "experimentId", iteration, "identityId", "firstVariantKey", "firstExposedAt" AS "firstAt", "firstExposureId"::int AS "firstId",
                "conflicted"
         FROM "ExperimentAssignment" ORDER BY iteration, "identityId"`,
      ),
    );
    const at = (iso: string) => new Date(iso);
    expect(rows).toEqual([
      {
        experimentId: ids.experiment, iteration: 1, identityId: ids.ann, firstVariantKey: 'b', firstAt: at('2026-01-01T10:00:00Z'), firstId: ids.annFirst,
        conflicted: true,
      },
      {
        experimentId: ids.experiment, iteration: 1, identityId: ids.bob, firstVariantKey: 'control', firstAt: at('2026-01-01T10:30:00Z'), firstId: ids.bobFirst,
        conflicted: false,
      },
      {
        experimentId: ids.experiment, iteration: 2, identityId: ids.ann, firstVariantKey: 'a', firstAt: at('2026-01-02T10:00:00Z'), firstId: ids.annSecond,
        conflicted: false,
      },
    ]);
  }, 180_000); // a fresh PGlite and every migration: slow on a loaded machine
});
