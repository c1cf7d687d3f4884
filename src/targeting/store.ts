// The statements of targeting that are more than one Prisma call: row locks, the identity
// created on first sight, and how the database reports a broken constraint.
import { uniqueViolationFields } from '../db/sql-state.js';
import { NotFoundError } from '../errors/app-errors.js';
import { Prisma } from '../generated/prisma/client.js';

export type Tx = Prisma.TransactionClient;
type Path = (string | number)[];

const PRIORITY_INDEX = 'SegmentOverride_environmentId_featureId_priority_key';
const SEGMENT_NAME_INDEX = 'Segment_projectId_name_key';

/** A JSON value to store where SQL NULL means "inherit": null and undefined are SQL NULL. */
export function inheritableJson(value: unknown): Prisma.InputJsonValue | typeof Prisma.DbNull | undefined {
  if (value === undefined) return undefined;
  return value === null ? Prisma.DbNull : (value as Prisma.InputJsonValue);
}

/**
 * Locks the feature's row (writes that change who gets what of one feature run one after
 * another, as the features domain's writes do); NOT_FOUND unless it is in the project.
 */
export async function lockFeatureOfProject(tx: Tx, featureId: number, projectId: number, path: Path): Promise<void> {
  const rows = await tx.$queryRaw<{ id: number }[]>`
    SELECT "id" FROM "Feature" WHERE "id" = ${featureId} AND "projectId" = ${projectId} FOR UPDATE`;
  if (rows.length === 0) throw new NotFoundError('No feature with this id in this project.', null, path);
}

/** Locks the feature's row if it still exists (a deleted one has no overrides left). */
export async function lockFeature(tx: Tx, featureId: number): Promise<void> {
  await tx.$queryRaw`SELECT "id" FROM "Feature" WHERE "id" = ${featureId} FOR UPDATE`;
}

/**
 * Keeps the segment from being deleted until the transaction ends (deleteSegment locks it
 * FOR UPDATE); NOT_FOUND unless it is in the project.
 */
export async function shareSegment(tx: Tx, segmentId: number, projectId: number, path: Path): Promise<void> {
  const rows = await tx.$queryRaw<{ id: number }[]>`
    SELECT "id" FROM "Segment" WHERE "id" = ${segmentId} AND "projectId" = ${projectId} FOR SHARE`;
  if (rows.length === 0) throw new NotFoundError('No segment with this id in this project.', null, path);
}

/** Locks the segment's row for the rest of the transaction; NOT_FOUND when there is none. */
export async function lockSegment(tx: Tx, segmentId: number, path: Path): Promise<{ id: number; projectId: number }> {
  const rows = await tx.$queryRaw<{ id: number; projectId: number }[]>`
    SELECT "id", "projectId" FROM "Segment" WHERE "id" = ${segmentId} FOR UPDATE`;
  if (rows.length === 0) throw new NotFoundError('No segment with this id.', null, path);
  return rows[0];
}

/**
 * The identity of (environment, identifier), created when new; its row stays locked until
 * the transaction ends, so overrides of one identity are written one after another.
 */
export async function lockIdentity(tx: Tx, environmentId: number, identifier: string): Promise<number> {
  const rows = await tx.$queryRaw<{ id: number }[]>`
    INSERT INTO "Identity" ("environmentId", "identifier", "updatedAt") VALUES (${environmentId}, ${identifier}, now())
    ON CONFLICT ("environmentId", "identifier") DO UPDATE SET "updatedAt" = EXCLUDED."updatedAt"
    RETURNING "id"`;
  return rows[0].id;
}

/** The priority after every segment override of the feature in the environment (1 for the first). */
export async function nextOverridePriority(tx: Tx, environmentId: number, featureId: number): Promise<number> {
  const { _max } = await tx.segmentOverride.aggregate({ where: { environmentId, featureId }, _max: { priority: true } });
  return _max.priority === null ? 1 : _max.priority + 1;
}

export async function environmentIdsOfProject(tx: Tx, projectId: number): Promise<number[]> {
  const environments = await tx.environment.findMany({ where: { projectId }, select: { id: true }, orderBy: { id: 'asc' } });
  return environments.map((environment) => environment.id);
}

export function isPriorityUniqueViolation(error: unknown): boolean {
  const fields = uniqueViolationFields(error);
  return fields !== undefined && (fields.includes(PRIORITY_INDEX) || fields.includes('priority'));
}

export function isSegmentNameUniqueViolation(error: unknown): boolean {
  const fields = uniqueViolationFields(error);
  return fields !== undefined && (fields.includes(SEGMENT_NAME_INDEX) || (fields.includes('projectId') && fields.includes('name')));
}


/** A segment override with its own weights (option id, key, weight), as the audit log keeps it; null when there is none. */
export async function segmentOverrideWithAllocations(tx: Tx, overrideId: number) {
  const override = await tx.segmentOverride.findUnique({
    where: { id: overrideId },
    include: { allocations: { select: { optionId: true, weight: true, option: { select: { key: true } } }, orderBy: { optionId: 'asc' } } },
  });
  if (!override) return null;
  return { ...override, allocations: override.allocations.map(({ optionId, option, weight }) => ({ optionId, key: option.key, weight })) };
}
