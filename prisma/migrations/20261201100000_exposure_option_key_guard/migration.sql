-- DropForeignKey
ALTER TABLE "Exposure" DROP CONSTRAINT "Exposure_optionId_fkey";

-- Exposures recorded while their key was being changed (possible before this constraint)
-- keep the key they reported; they point at the option that has that key now, else at none.
UPDATE "Exposure" e
SET "optionId" = (SELECT o."id" FROM "MultivariateOption" o WHERE o."featureId" = e."featureId" AND o."key" = e."variantKey")
WHERE e."optionId" IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM "MultivariateOption" o WHERE o."id" = e."optionId" AND o."key" = e."variantKey");

-- CreateIndex
CREATE UNIQUE INDEX "MultivariateOption_id_key_key" ON "MultivariateOption"("id", "key");

-- AddForeignKey
ALTER TABLE "Exposure" ADD CONSTRAINT "Exposure_optionId_variantKey_fkey" FOREIGN KEY ("optionId", "variantKey") REFERENCES "MultivariateOption"("id", "key") ON DELETE RESTRICT ON UPDATE RESTRICT;
