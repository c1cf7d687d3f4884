// Rules for projects and environments: names, default environments, and the FeatureStates
// every (environment, feature) pair must have.
import { newEnvironmentKey } from '../auth/credentials.js';
import { isUniqueViolation } from '../db/unique-violation.js';
import { DuplicateNameError, NotFoundError, ValidationError } from '../errors/app-errors.js';
import type { Environment, PrismaClient, Project } from '../generated/prisma/client.js';
import { echo } from '../errors/echo.js';

export const DEFAULT_ENVIRONMENTS = ['development', 'production'] as const;
const NAME_MAX = 100;
export const ENVIRONMENTS_PER_INPUT_MAX = 100;

/** Project and environment names: trimmed, 1-100 characters, no control characters. */
export function normaliseName(raw: string, path: (string | number)[], what: string): string {
  const name = raw.trim();
  if (name.length < 1 || name.length > NAME_MAX || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new ValidationError('INVALID_NAME', `${what} name must be 1-${NAME_MAX} printable characters.`, path);
  }
  return name;
}

export async function createProject(
  prisma: PrismaClient,
  input: { name: string; environments?: string[] | null },
): Promise<Project> {
  const name = normaliseName(input.name, ['name'], 'A project');
  if (input.environments && input.environments.length > ENVIRONMENTS_PER_INPUT_MAX) {
    throw new ValidationError('INVALID_INPUT', `At most ${ENVIRONMENTS_PER_INPUT_MAX} environments per project input.`, ['environments']);
  }
  const environmentNames = (input.environments ?? [...DEFAULT_ENVIRONMENTS]).map((env, index) =>
    normaliseName(env, ['environments', index], 'An environment'),
  );
  if (environmentNames.length === 0) {
    throw new ValidationError('INVALID_INPUT', 'A project needs at least one environment.', ['environments']);
  }
  const seen = new Set<string>();
  environmentNames.forEach((env, index) => {
    if (seen.has(env)) {
      throw new DuplicateNameError('DUPLICATE_NAME', `Environment "${echo(env)}" is listed twice.`, env, ['environments', index]);
    }
    seen.add(env);
  });
  try {
    return await prisma.project.create({
      data: {
        name,
        environments: { create: environmentNames.map((env) => ({ name: env, key: newEnvironmentKey() })) },
      },
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
      return environment;
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new DuplicateNameError('DUPLICATE_NAME', `This project already has an environment named "${echo(name)}".`, name, ['name']);
    }
    throw error;
  }
}
