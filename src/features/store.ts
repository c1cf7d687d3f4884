// The statements of features, options and feature states that are more than one Prisma call:
// row locks, the lookups the write rules need, and how the database reports a broken unique
// index.
import { uniqueViolationFields } from '../db/sql-state.js';
import { NotFoundError } from '../errors/app-errors.js';
import { Prisma } from '../generated/prisma/client.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { FeatureStateReference } from './normalise.js';

export type Tx = Prisma.TransactionClient;
type Path = (string | number)[];

/** The unique index on MultivariateOption(featureId, key); NULL keys never collide in it. */
const KEY_INDEX = 'MultivariateOption_featureId_key_key';

/** A JSON value of any type; JSON null is stored as JSON null, not as SQL NULL. */
export function jsonValue(value: unknown): Prisma.InputJsonValue | typeof Prisma.JsonNull {
  return value === null || value === undefined ? Prisma.JsonNull : (value as Prisma.InputJsonValue);
}

/** Locks the feature's row for the rest of the transaction; NOT_FOUND when there is none. */
export async function lockFeature(tx: Tx, featureId: number, path: Path): Promise<{ id: number; projectId: number }> {
  const rows = await tx.$queryRaw<{ id: number; projectId: number }[]>`
    SELECT "id", "projectId" FROM "Feature" WHERE "id" = ${featureId} FOR UPDATE`;
  if (rows.length === 0) throw new NotFoundError('No feature with this id.', null, path);
  return rows[0];
}

/** Locks the project's row for the rest of the transaction; NOT_FOUND when there is none. */
export async function lockProject(tx: Tx, projectId: number, path: Path): Promise<void> {
  const projects = await tx.$queryRaw<{ id: number }[]>`SELECT "id" FROM "Project" WHERE "id" = ${projectId} FOR UPDATE`;
  if (projects.length === 0) throw new NotFoundError('No project with this id.', null, path);
}

export async function environmentIdsOfFeature(tx: Tx, featureId: number): Promise<number[]> {
  const states = await tx.featureState.findMany({ where: { featureId }, select: { environmentId: true } });
  return states.map((state) => state.environmentId);
}

/** The priority after every option of the feature, archived ones included: creation order. */
export async function nextPriority(tx: Tx, featureId: number): Promise<number> {
  const { _max } = await tx.multivariateOption.aggregate({ where: { featureId }, _max: { priority: true } });
  return (_max.priority ?? 0) + 1;
}

/** The option's feature, read before the transaction: an option never moves to another feature. */
export async function featureOfOption(prisma: PrismaClient, optionId: number): Promise<number> {
  const option = await prisma.multivariateOption.findUnique({ where: { id: optionId }, select: { featureId: true } });
  if (!option) throw new NotFoundError('No multivariate option with this id.', null, ['id']);
  return option.featureId;
}

/** The state a reference names, with its feature and environment; NOT_FOUND when none. */
export async function findFeatureState(
  prisma: PrismaClient,
  reference: FeatureStateReference,
): Promise<{ id: number; featureId: number; environmentId: number }> {
  const select = { id: true, featureId: true, environmentId: true } as const;
  if ('stateId' in reference) {
    const state = await prisma.featureState.findUnique({ where: { id: reference.stateId }, select });
    if (!state) throw new NotFoundError('No feature state with this id.', null, ['id']);
    return state;
  }
  const state = await prisma.featureState.findUnique({
    where: { environmentId_featureId: { environmentId: reference.environmentId, featureId: reference.featureId } },
    select,
  });
  // Also when both exist but belong to different projects.
  if (!state) throw new NotFoundError('No feature state for this environment and feature.', null, ['featureId']);
  return state;
}

export function isFeatureNameUniqueViolation(error: unknown): boolean {
  const fields = uniqueViolationFields(error);
  return (
    fields !== undefined &&
    (fields.includes('Feature_projectId_name_key') || (fields.includes('projectId') && fields.includes('name')))
  );
}

/** Whether an error is a violation of the (featureId, key) unique index, as either driver adapter reports it. */
export function isVariantKeyUniqueViolation(error: unknown): boolean {
  const fields = uniqueViolationFields(error);
  if (!fields) return false;
  return fields.includes(KEY_INDEX) || (fields.includes('featureId') && fields.includes('key') && fields.length === 2);
}

/** Whether any exposure of the feature was recorded under this key. */
export async function variantKeyHasExposures(tx: Tx, featureId: number, key: string): Promise<boolean> {
  const exposure = await tx.exposure.findFirst({ where: { featureId, variantKey: key }, select: { id: true } });
  return exposure !== null;
}

/**
 * Whether an option has exposures, by reference or by its key: such an option is archived,
 * not deleted, so that its exposures keep their meaning and its key stays reserved.
 */
export async function optionHasExposures(tx: Tx, option: { id: number; featureId: number; key: string | null }): Promise<boolean> {
  const exposure = await tx.exposure.findFirst({
    where: {
      OR: [{ optionId: option.id }, ...(option.key !== null ? [{ featureId: option.featureId, variantKey: option.key }] : [])],
    },
    select: { id: true },
  });
  return exposure !== null;
}

/** The keys among these that options of the feature hold, archived options included. */
export function optionsHoldingKeys(tx: Tx, featureId: number, keys: string[]): Promise<{ id: number; key: string | null; archivedAt: Date | null }[]> {
  return tx.multivariateOption.findMany({
    where: { featureId, key: { in: keys } },
    select: { id: true, key: true, archivedAt: true },
  });
}

/** What the weight sums of a feature need: its live options, and each environment's allocations. */
export async function weightsOfFeature(tx: Tx, featureId: number) {
  const options = await tx.multivariateOption.findMany({
    where: { featureId, archivedAt: null },
    select: { id: true, defaultWeight: true, archivedAt: true },
  });
  const states = await tx.featureState.findMany({
    where: { featureId },
    orderBy: { environmentId: 'asc' },
    select: {
      environment: { select: { id: true, name: true } },
      allocations: { select: { optionId: true, weight: true } },
    },
  });
  return { options, states };
}

/** A feature state with its weight overrides (option id, key, weight), as the audit log keeps it; null when there is none. */
export async function featureStateWithAllocations(tx: Tx, where: Prisma.FeatureStateWhereUniqueInput) {
  const state = await tx.featureState.findUnique({
    where,
    include: { allocations: { select: { optionId: true, weight: true, option: { select: { key: true } } }, orderBy: { optionId: 'asc' } } },
  });
  if (!state) return null;
  return { ...state, allocations: state.allocations.map(({ optionId, option, weight }) => ({ optionId, key: option.key, weight })) };
}
