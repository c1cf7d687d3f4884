// The commands of projects and environments: creating them, with the FeatureStates every
// (environment, feature) pair must have.
import { audit } from '../audit/scope.js';
import { newEnvironmentKey } from '../auth/credentials.js';
import { isUniqueViolation } from '../db/sql-state.js';
import { DuplicateNameError, NotFoundError } from '../errors/app-errors.js';
import type { Environment, PrismaClient, Project } from '../generated/prisma/client.js';
import { echo } from '../errors/echo.js';
import { normaliseName, normaliseNewProject } from './normalise.js';

/** What the projects domain offers. */
export interface ProjectService {
  createProject(input: { name: string; environments?: string[] | null }): Promise<Project>;
  createEnvironment(input: { projectId: number; name: string }): Promise<Environment>;
}

export function createProjectService(deps: { prisma: PrismaClient }): ProjectService {
  const { prisma } = deps;
  return {
    createProject: (input) => createProject(prisma, input),
    createEnvironment: (input) => createEnvironment(prisma, input),
  };
}

export async function createProject(
  prisma: PrismaClient,
  input: { name: string; environments?: string[] | null },
): Promise<Project> {
  const { name, environments: environmentNames } = normaliseNewProject(input);
  try {
    return await prisma.$transaction(async (tx) => {
      const project = await tx.project.create({
        data: {
          name,
          environments: { create: environmentNames.map((env) => ({ name: env, key: newEnvironmentKey() })) },
        },
      });
      await audit(tx, 'Project', null, project);
      return project;
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new DuplicateNameError('DUPLICATE_NAME', `A project named "${echo(name)}" already exists.`, name, ['name']);
    }
    throw error;
  }
}

/** Creates an environment with a FeatureState for every feature of its project, in one transaction. */
export async function createEnvironment(
  prisma: PrismaClient,
  input: { projectId: number; name: string },
): Promise<Environment> {
  const name = normaliseName(input.name, ['name'], 'An environment');
  try {
    return await prisma.$transaction(async (tx) => {
      const project = await tx.project.findUnique({ where: { id: input.projectId }, select: { id: true } });
      if (!project) throw new NotFoundError('No project with this id.', null, ['projectId']);
      const environment = await tx.environment.create({
        data: { projectId: project.id, name, key: newEnvironmentKey() },
      });
      const features = await tx.feature.findMany({
        where: { projectId: project.id },
        select: { id: true, defaultEnabled: true },
      });
      if (features.length) {
        await tx.featureState.createMany({
          data: features.map((feature) => ({
            environmentId: environment.id,
            featureId: feature.id,
            enabled: feature.defaultEnabled,
          })),
        });
      }
      await audit(tx, 'Environment', null, environment);
      return environment;
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new DuplicateNameError('DUPLICATE_NAME', `This project already has an environment named "${echo(name)}".`, name, ['name']);
    }
    throw error;
  }
}
