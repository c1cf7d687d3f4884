// What an analytics read is about: an environment, and maybe one feature of its project by
// name. Shared by the GraphQL queries and the export route. Queries answer unknown ones with
// a GraphQL error (`NOT_FOUND`, `FEATURE_NOT_FOUND`), the export with 404.
import type { PrismaClient } from '../generated/prisma/client.js';
import { echo } from '../errors/echo.js';
import { AnalyticsLookupError } from './errors.js';

export interface AnalyticsScope {
  environmentId: number;
  projectId: number;
  feature: { id: number; name: string } | undefined;
}

export async function resolveAnalyticsScope(
  prisma: PrismaClient,
  environmentId: number,
  featureName: string | null | undefined,
): Promise<AnalyticsScope> {
  const environment =
    environmentId > 0
      ? await prisma.environment.findUnique({ where: { id: environmentId }, select: { id: true, projectId: true } })
      : null;
  if (!environment) throw new AnalyticsLookupError('NOT_FOUND', 'No environment with this id.');
  if (featureName === null || featureName === undefined) {
    return { environmentId, projectId: environment.projectId, feature: undefined };
  }
  const feature = await prisma.feature.findUnique({
    where: { projectId_name: { projectId: environment.projectId, name: featureName } },
    select: { id: true, name: true },
  });
  if (!feature) throw new AnalyticsLookupError('FEATURE_NOT_FOUND', `No feature named "${echo(featureName)}" in this environment's project.`);
  return { environmentId, projectId: environment.projectId, feature };
}
