-- CreateTable
CREATE TABLE "Segment" (
    "id" SERIAL NOT NULL,
    "projectId" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "rules" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Segment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SegmentOverride" (
    "id" SERIAL NOT NULL,
    "environmentId" INTEGER NOT NULL,
    "featureId" INTEGER NOT NULL,
    "segmentId" INTEGER NOT NULL,
    "enabled" BOOLEAN NOT NULL,
    "value" JSONB,
    "priority" INTEGER NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "SegmentOverride_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SegmentOverrideAllocation" (
    "id" SERIAL NOT NULL,
    "segmentOverrideId" INTEGER NOT NULL,
    "optionId" INTEGER NOT NULL,
    "weight" DOUBLE PRECISION NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "SegmentOverrideAllocation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "IdentityOverride" (
    "id" SERIAL NOT NULL,
    "identityId" INTEGER NOT NULL,
    "featureId" INTEGER NOT NULL,
    "enabled" BOOLEAN NOT NULL,
    "value" JSONB,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "IdentityOverride_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Segment_projectId_name_key" ON "Segment"("projectId", "name");

-- CreateIndex
CREATE INDEX "SegmentOverride_featureId_idx" ON "SegmentOverride"("featureId");

-- CreateIndex
CREATE INDEX "SegmentOverride_segmentId_idx" ON "SegmentOverride"("segmentId");

-- CreateIndex
CREATE UNIQUE INDEX "SegmentOverride_environmentId_featureId_segmentId_key" ON "SegmentOverride"("environmentId", "featureId", "segmentId");

-- CreateIndex
CREATE UNIQUE INDEX "SegmentOverride_environmentId_featureId_priority_key" ON "SegmentOverride"("environmentId", "featureId", "priority");

-- CreateIndex
CREATE INDEX "SegmentOverrideAllocation_optionId_idx" ON "SegmentOverrideAllocation"("optionId");

-- CreateIndex
CREATE UNIQUE INDEX "SegmentOverrideAllocation_segmentOverrideId_optionId_key" ON "SegmentOverrideAllocation"("segmentOverrideId", "optionId");

-- CreateIndex
CREATE INDEX "IdentityOverride_featureId_idx" ON "IdentityOverride"("featureId");

-- CreateIndex
CREATE UNIQUE INDEX "IdentityOverride_identityId_featureId_key" ON "IdentityOverride"("identityId", "featureId");

-- AddForeignKey
ALTER TABLE "Segment" ADD CONSTRAINT "Segment_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "Project"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SegmentOverride" ADD CONSTRAINT "SegmentOverride_environmentId_fkey" FOREIGN KEY ("environmentId") REFERENCES "Environment"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SegmentOverride" ADD CONSTRAINT "SegmentOverride_featureId_fkey" FOREIGN KEY ("featureId") REFERENCES "Feature"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SegmentOverride" ADD CONSTRAINT "SegmentOverride_segmentId_fkey" FOREIGN KEY ("segmentId") REFERENCES "Segment"("id") ON DELETE NO ACTION ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SegmentOverrideAllocation" ADD CONSTRAINT "SegmentOverrideAllocation_segmentOverrideId_fkey" FOREIGN KEY ("segmentOverrideId") REFERENCES "SegmentOverride"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SegmentOverrideAllocation" ADD CONSTRAINT "SegmentOverrideAllocation_optionId_fkey" FOREIGN KEY ("optionId") REFERENCES "MultivariateOption"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "IdentityOverride" ADD CONSTRAINT "IdentityOverride_identityId_fkey" FOREIGN KEY ("identityId") REFERENCES "Identity"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "IdentityOverride" ADD CONSTRAINT "IdentityOverride_featureId_fkey" FOREIGN KEY ("featureId") REFERENCES "Feature"("id") ON DELETE CASCADE ON UPDATE CASCADE;
