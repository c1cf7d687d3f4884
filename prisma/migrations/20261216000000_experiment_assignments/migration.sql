-- CreateTable
CREATE TABLE "ExperimentAssignment" (
    "experimentId" INTEGER NOT NULL,
    "iteration" INTEGER NOT NULL,
    "identityId" INTEGER NOT NULL,
    "firstVariantKey" TEXT NOT NULL,
    "firstExposedAt" TIMESTAMPTZ(3) NOT NULL,
    "firstExposureId" BIGINT NOT NULL,
    "lastExposedAt" TIMESTAMPTZ(3) NOT NULL,
    "exposureCount" INTEGER NOT NULL,
    "variantKeys" TEXT[],
    "variantExposures" INTEGER[],
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ExperimentAssignment_pkey" PRIMARY KEY ("experimentId","iteration","identityId")
);

-- AddForeignKey
ALTER TABLE "ExperimentAssignment" ADD CONSTRAINT "ExperimentAssignment_experimentId_iteration_fkey" FOREIGN KEY ("experimentId", "iteration") REFERENCES "ExperimentIteration"("experimentId", "number") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ExperimentAssignment" ADD CONSTRAINT "ExperimentAssignment_identityId_fkey" FOREIGN KEY ("identityId") REFERENCES "Identity"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Backfill from the exposures already stamped with an iteration, exactly as the exposure
-- statement keeps the rows: first by (exposedAt, id), keys in byte order with their counts.
INSERT INTO "ExperimentAssignment" ("experimentId", "iteration", "identityId", "firstVariantKey", "firstExposedAt",
                                    "firstExposureId", "lastExposedAt", "exposureCount", "variantKeys", "variantExposures")
SELECT k."experimentId", k."iteration", k."identityId",
       (array_agg(k."key" ORDER BY k."firstAt", k."firstId"))[1],
       min(k."firstAt"),
       (array_agg(k."firstId" ORDER BY k."firstAt", k."firstId"))[1],
       max(k."lastAt"),
       sum(k."n")::int,
       array_agg(k."key" ORDER BY k."key"),
       array_agg(k."n" ORDER BY k."key")
FROM (
    SELECT e."experimentId", e."iteration", e."identityId", e."variantKey" COLLATE "C" AS "key", count(*)::int AS "n",
           min(e."exposedAt") AS "firstAt", (array_agg(e."id" ORDER BY e."exposedAt", e."id"))[1] AS "firstId",
           max(e."exposedAt") AS "lastAt"
    FROM "Exposure" e
    JOIN "ExperimentIteration" xi ON xi."experimentId" = e."experimentId" AND xi."number" = e."iteration"
    GROUP BY 1, 2, 3, 4
) k
GROUP BY 1, 2, 3;
