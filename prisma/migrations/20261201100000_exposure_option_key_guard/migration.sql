-- DropForeignKey
ALTER TABLE "Exposure" DROP CONSTRAINT "Exposure_optionId_fkey";

-- CreateIndex
CREATE UNIQUE INDEX "MultivariateOption_id_key_key" ON "MultivariateOption"("id", "key");

-- AddForeignKey
ALTER TABLE "Exposure" ADD CONSTRAINT "Exposure_optionId_variantKey_fkey" FOREIGN KEY ("optionId", "variantKey") REFERENCES "MultivariateOption"("id", "key") ON DELETE RESTRICT ON UPDATE RESTRICT;
