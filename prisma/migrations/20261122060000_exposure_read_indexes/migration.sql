-- CreateIndex
CREATE INDEX "Exposure_featureId_variantKey_idx" ON "Exposure"("featureId", "variantKey");

-- CreateIndex
CREATE INDEX "Exposure_environmentId_id_idx" ON "Exposure"("environmentId", "id");

-- CreateIndex
CREATE INDEX "Exposure_environmentId_featureId_id_idx" ON "Exposure"("environmentId", "featureId", "id");
