-- ExperimentAssignment keeps what changes rarely: the first exposure and whether another key
-- followed. Exposures per key are counted from Exposure's index instead of kept per identity,
-- so that an exposure of a known identity with its usual key leaves the row as it is.

-- AlterTable
ALTER TABLE "ExperimentAssignment" ADD COLUMN "conflicted" BOOLEAN;
UPDATE "ExperimentAssignment" SET "conflicted" = coalesce(cardinality("variantKeys"), 0) > 1;
ALTER TABLE "ExperimentAssignment" ALTER COLUMN "conflicted" SET NOT NULL;
ALTER TABLE "ExperimentAssignment" DROP COLUMN "exposureCount",
DROP COLUMN "lastExposedAt",
DROP COLUMN "variantExposures",
DROP COLUMN "variantKeys";

-- DropIndex
DROP INDEX "Exposure_experimentId_iteration_idx";

-- CreateIndex
CREATE INDEX "Exposure_experimentId_iteration_variantKey_idx" ON "Exposure"("experimentId", "iteration", "variantKey");
