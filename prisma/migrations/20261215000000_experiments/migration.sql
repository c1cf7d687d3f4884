-- CreateEnum
CREATE TYPE "ExperimentStatus" AS ENUM ('DRAFT', 'RUNNING', 'STOPPED');

-- AlterTable
ALTER TABLE "Exposure" ADD COLUMN     "experimentId" INTEGER,
ADD COLUMN     "iteration" INTEGER;

-- CreateTable
CREATE TABLE "Experiment" (
    "id" SERIAL NOT NULL,
    "environmentId" INTEGER NOT NULL,
    "featureId" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "hypothesis" TEXT,
    "status" "ExperimentStatus" NOT NULL DEFAULT 'DRAFT',
    "winnerKey" TEXT,
    "stoppedAt" TIMESTAMPTZ(3),
    "stoppedByTokenId" INTEGER,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Experiment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ExperimentIteration" (
    "id" SERIAL NOT NULL,
    "experimentId" INTEGER NOT NULL,
    "number" INTEGER NOT NULL,
    "startedAt" TIMESTAMPTZ(3) NOT NULL,
    "stoppedAt" TIMESTAMPTZ(3),
    "allocation" JSONB NOT NULL,

    CONSTRAINT "ExperimentIteration_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Exposure_experimentId_iteration_idx" ON "Exposure"("experimentId", "iteration");

-- CreateIndex
CREATE INDEX "Experiment_environmentId_featureId_idx" ON "Experiment"("environmentId", "featureId");

-- CreateIndex
CREATE INDEX "Experiment_featureId_idx" ON "Experiment"("featureId");

-- CreateIndex
CREATE UNIQUE INDEX "Experiment_environmentId_name_key" ON "Experiment"("environmentId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "ExperimentIteration_experimentId_number_key" ON "ExperimentIteration"("experimentId", "number");

-- AddForeignKey
ALTER TABLE "Experiment" ADD CONSTRAINT "Experiment_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "Environment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Experiment" ADD CONSTRAINT "Experiment_featureId_fkey" FOREIGN KEY ("featureId") REFERENCES "Feature"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ExperimentIteration" ADD CONSTRAINT "ExperimentIteration_experimentId_fkey" FOREIGN KEY ("experimentId") REFERENCES "Experiment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Exposure" ADD CONSTRAINT "Exposure_experimentId_fkey" FOREIGN KEY ("experimentId") REFERENCES "Experiment"("id") ON DELETE SET NULL ON UPDATE CASCADE;
