-- CreateEnum
CREATE TYPE "ExposureSource" AS ENUM ('CLIENT', 'SERVER');

-- CreateEnum
CREATE TYPE "ApiScope" AS ENUM ('ADMIN', 'ANALYTICS');

-- CreateTable
CREATE TABLE "Project" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Project_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Environment" (
    "id" SERIAL NOT NULL,
    "projectId" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Environment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Feature" (
    "id" SERIAL NOT NULL,
    "projectId" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "initialValue" JSONB NOT NULL,
    "defaultEnabled" BOOLEAN NOT NULL DEFAULT false,
    "archivedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Feature_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MultivariateOption" (
    "id" SERIAL NOT NULL,
    "featureId" INTEGER NOT NULL,
    "key" TEXT,
    "name" TEXT,
    "description" TEXT,
    "value" JSONB NOT NULL,
    "defaultWeight" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "priority" INTEGER NOT NULL,
    "archivedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "MultivariateOption_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "FeatureState" (
    "id" SERIAL NOT NULL,
    "environmentId" INTEGER NOT NULL,
    "featureId" INTEGER NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT false,
    "value" JSONB,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "FeatureState_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "VariantAllocation" (
    "id" SERIAL NOT NULL,
    "featureStateId" INTEGER NOT NULL,
    "optionId" INTEGER NOT NULL,
    "weight" DOUBLE PRECISION NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "VariantAllocation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Identity" (
    "id" SERIAL NOT NULL,
    "environmentId" INTEGER NOT NULL,
    "identifier" TEXT NOT NULL,
    "traits" JSONB NOT NULL DEFAULT '{}',
    "lastSeenAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Identity_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Exposure" (
    "id" BIGSERIAL NOT NULL,
    "environmentId" INTEGER NOT NULL,
    "featureId" INTEGER NOT NULL,
    "optionId" INTEGER,
    "variantKey" TEXT NOT NULL,
    "identityId" INTEGER NOT NULL,
    "exposedAt" TIMESTAMPTZ(3) NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "eventId" TEXT,
    "source" "ExposureSource" NOT NULL,
    "matchesAssignment" BOOLEAN NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Exposure_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Assignment" (
    "environmentId" INTEGER NOT NULL,
    "featureId" INTEGER NOT NULL,
    "identityId" INTEGER NOT NULL,
    "firstVariantKey" TEXT NOT NULL,
    "firstExposedAt" TIMESTAMPTZ(3) NOT NULL,
    "lastExposedAt" TIMESTAMPTZ(3) NOT NULL,
    "exposureCount" INTEGER NOT NULL,
    "variantKeys" TEXT[],
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Assignment_pkey" PRIMARY KEY ("environmentId","featureId","identityId")
);

-- CreateTable
CREATE TABLE "ApiToken" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "scopes" "ApiScope"[],
    "lastUsedAt" TIMESTAMPTZ(3),
    "revokedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ApiToken_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Project_name_key" ON "Project"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Environment_key_key" ON "Environment"("key");

-- CreateIndex
CREATE UNIQUE INDEX "Environment_projectId_name_key" ON "Environment"("projectId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "Feature_projectId_name_key" ON "Feature"("projectId", "name");

-- CreateIndex
CREATE INDEX "MultivariateOption_featureId_priority_idx" ON "MultivariateOption"("featureId", "priority");

-- CreateIndex
CREATE UNIQUE INDEX "MultivariateOption_featureId_key_key" ON "MultivariateOption"("featureId", "key");

-- CreateIndex
CREATE INDEX "FeatureState_featureId_idx" ON "FeatureState"("featureId");

-- CreateIndex
CREATE UNIQUE INDEX "FeatureState_environmentId_featureId_key" ON "FeatureState"("environmentId", "featureId");

-- CreateIndex
CREATE INDEX "VariantAllocation_optionId_idx" ON "VariantAllocation"("optionId");

-- CreateIndex
CREATE UNIQUE INDEX "VariantAllocation_featureStateId_optionId_key" ON "VariantAllocation"("featureStateId", "optionId");

-- CreateIndex
CREATE UNIQUE INDEX "Identity_environmentId_identifier_key" ON "Identity"("environmentId", "identifier");

-- CreateIndex
CREATE INDEX "Exposure_environmentId_featureId_exposedAt_idx" ON "Exposure"("environmentId", "featureId", "exposedAt");

-- CreateIndex
CREATE INDEX "Exposure_identityId_featureId_idx" ON "Exposure"("identityId", "featureId");

-- CreateIndex
CREATE INDEX "Exposure_optionId_idx" ON "Exposure"("optionId");

-- CreateIndex
CREATE UNIQUE INDEX "Exposure_environmentId_eventId_key" ON "Exposure"("environmentId", "eventId");

-- CreateIndex
CREATE INDEX "Assignment_environmentId_featureId_firstExposedAt_idx" ON "Assignment"("environmentId", "featureId", "firstExposedAt");

-- CreateIndex
CREATE UNIQUE INDEX "ApiToken_tokenHash_key" ON "ApiToken"("tokenHash");

-- AddForeignKey
ALTER TABLE "Environment" ADD CONSTRAINT "Environment_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Feature" ADD CONSTRAINT "Feature_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MultivariateOption" ADD CONSTRAINT "MultivariateOption_featureId_fkey" FOREIGN KEY ("featureId") REFERENCES "Feature"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FeatureState" ADD CONSTRAINT "FeatureState_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "Environment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FeatureState" ADD CONSTRAINT "FeatureState_featureId_fkey" FOREIGN KEY ("featureId") REFERENCES "Feature"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "VariantAllocation" ADD CONSTRAINT "VariantAllocation_featureStateId_fkey" FOREIGN KEY ("featureStateId") REFERENCES "FeatureState"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "VariantAllocation" ADD CONSTRAINT "VariantAllocation_optionId_fkey" FOREIGN KEY ("optionId") REFERENCES "MultivariateOption"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Identity" ADD CONSTRAINT "Identity_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "Environment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Exposure" ADD CONSTRAINT "Exposure_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "Environment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Exposure" ADD CONSTRAINT "Exposure_featureId_fkey" FOREIGN KEY ("featureId") REFERENCES "Feature"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Exposure" ADD CONSTRAINT "Exposure_optionId_fkey" FOREIGN KEY ("optionId") REFERENCES "MultivariateOption"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Exposure" ADD CONSTRAINT "Exposure_identityId_fkey" FOREIGN KEY ("identityId") REFERENCES "Identity"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Assignment" ADD CONSTRAINT "Assignment_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "Environment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Assignment" ADD CONSTRAINT "Assignment_featureId_fkey" FOREIGN KEY ("featureId") REFERENCES "Feature"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Assignment" ADD CONSTRAINT "Assignment_identityId_fkey" FOREIGN KEY ("identityId") REFERENCES "Identity"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Weights are percentages; the database refuses anything outside 0-100 as a last guard
-- behind the API's own validation (Prisma's schema language has no CHECK constraints).
ALTER TABLE "MultivariateOption" ADD CONSTRAINT "MultivariateOption_defaultWeight_check" CHECK ("defaultWeight" >= 0 AND "defaultWeight" <= 100);
ALTER TABLE "VariantAllocation" ADD CONSTRAINT "VariantAllocation_weight_check" CHECK ("weight" >= 0 AND "weight" <= 100);
