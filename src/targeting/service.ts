// The commands and queries of targeting (SPEC.md section 8): segments, segment overrides and
// identity overrides. Every write runs in one transaction; overrides lock their feature's row,
// so the checks of priorities and options still hold when they commit (the unique indexes
// remain the final guard). Each write returns the environments whose evaluation it changed,
// for the caller to announce after the commit.
import { isDeepStrictEqual } from 'node:util';
import { audit } from '../audit/scope.js';
import { DuplicateNameError, NotFoundError, ValidationError } from '../errors/app-errors.js';
import { echo } from '../errors/echo.js';
import { WeightsError } from '../features/errors.js';
import { isFeatureName } from '../features/feature-name.js';
import { totalWeight, weightsExceed100 } from '../features/weights.js';
import type { IdentityOverride, PrismaClient, Segment, SegmentOverride } from '../generated/prisma/client.js';
import { DuplicatePriorityError, SegmentInUseError } from './errors.js';
import {
  normaliseIdentifier,
  normaliseNewSegment,
  normaliseOverrideAllocations,
  normalisePriority,
  normaliseSegmentChanges,
  type OverrideAllocationInput,
  type SegmentInput,
} from './normalise.js';
import {
  environmentIdsOfProject,
  inheritableJson,
  isPriorityUniqueViolation,
  isSegmentNameUniqueViolation,
  lockFeature,
  lockFeatureOfProject,
  lockIdentity,
  lockSegment,
  nextOverridePriority,
  segmentOverrideWithAllocations,
  shareSegment,
  type Tx,
} from './store.js';
import { sqlState } from '../db/sql-state.js';
import { assertNoRunningExperiment } from '../experiments/guard.js';

export type { OverrideAllocationInput, SegmentInput } from './normalise.js';

type Path = (string | number)[];

/** Writes queue on row locks; give them room to wait (PGlite runs one at a time). */
const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 30_000 };

export interface Written<T> {
  value: T;
  /** Environments whose evaluation the write changed. */
  environmentIds: number[];
}

export interface DeletedSegment {
  segment: Segment;
  /** Overrides removed with it (force: true). */
  removedOverrides: number;
}

export interface SetSegmentOverrideInput {
  environmentId: number;
  featureId: number;
  segmentId: number;
  /** Left out: unchanged (false for a new override). */
  enabled?: boolean | null;
  /** null: the feature state's value; left out: unchanged. */
  value?: unknown;
  /** Left out: unchanged (after every other override of the feature for a new one). */
  priority?: number | null;
  /** The override's own weights, replacing any it had; left out: unchanged. */
  allocations?: OverrideAllocationInput[] | null;
}

export interface SetIdentityOverrideInput {
  environmentId: number;
  identifier: string;
  /** The feature's name. */
  feature: string;
  /** Left out: unchanged (false for a new override). */
  enabled?: boolean | null;
  /** null: the feature state's value; left out: unchanged. */
  value?: unknown;
}

/** What the targeting domain offers. */
export interface TargetingService {
  createSegment(projectId: number, input: SegmentInput): Promise<Written<Segment>>;
  updateSegment(segmentId: number, input: SegmentInput): Promise<Written<Segment>>;
  deleteSegment(segmentId: number, force: boolean): Promise<Written<DeletedSegment>>;
  setSegmentOverride(input: SetSegmentOverrideInput): Promise<Written<SegmentOverride>>;
  removeSegmentOverride(overrideId: number): Promise<Written<SegmentOverride>>;
  setIdentityOverride(input: SetIdentityOverrideInput): Promise<Written<IdentityOverride>>;
  removeIdentityOverride(overrideId: number): Promise<Written<IdentityOverride>>;
}

export function createTargetingService(deps: { prisma: PrismaClient }): TargetingService {
  const { prisma } = deps;
  return {
    createSegment: (projectId, input) => createSegment(prisma, projectId, input),
    updateSegment: (segmentId, input) => updateSegment(prisma, segmentId, input),
    deleteSegment: (segmentId, force) => deleteSegment(prisma, segmentId, force),
    setSegmentOverride: (input) => setSegmentOverride(prisma, input),
    removeSegmentOverride: (overrideId) => removeSegmentOverride(prisma, overrideId),
    setIdentityOverride: (input) => setIdentityOverride(prisma, input),
    removeIdentityOverride: (overrideId) => removeIdentityOverride(prisma, overrideId),
  };
}

function duplicateSegmentName(name: string): DuplicateNameError {
  return new DuplicateNameError('DUPLICATE_NAME', `This project already has a segment named "${echo(name)}".`, name, ['name']);
}

// ---------------------------------------------------------------------------------------
// Segments

async function createSegment(prisma: PrismaClient, projectId: number, input: SegmentInput): Promise<Written<Segment>> {
  const { name, description, rules } = normaliseNewSegment(input);
  try {
    return await prisma.$transaction(async (tx) => {
      const project = await tx.project.findUnique({ where: { id: projectId }, select: { id: true } });
      if (!project) throw new NotFoundError('No project with this id.', null, ['projectId']);
      const taken = await tx.segment.findUnique({ where: { projectId_name: { projectId, name } }, select: { id: true } });
      if (taken) throw duplicateSegmentName(name);
      const segment = await tx.segment.create({ data: { projectId, name, description, rules: rules as never } });
      await audit(tx, 'Segment', null, segment);
      // Overrides nothing yet: no environment evaluates differently.
      return { value: segment, environmentIds: [] };
    }, TRANSACTION_OPTIONS);
  } catch (error) {
    if (isSegmentNameUniqueViolation(error)) throw duplicateSegmentName(name);
    throw error;
  }
}

async function updateSegment(prisma: PrismaClient, segmentId: number, input: SegmentInput): Promise<Written<Segment>> {
  const { name, description, rules } = normaliseSegmentChanges(input);
  try {
    return await withOverriddenFeaturesLocked(prisma, segmentId, rules !== undefined, async (tx, projectId) => {
      const before = await tx.segment.findUniqueOrThrow({ where: { id: segmentId } });
      if (name !== undefined) {
        const taken = await tx.segment.findUnique({ where: { projectId_name: { projectId, name } }, select: { id: true } });
        if (taken && taken.id !== segmentId) throw duplicateSegmentName(name);
      }
      if (rules !== undefined) {
        const current = await tx.segment.findUniqueOrThrow({ where: { id: segmentId }, select: { rules: true } });
        if (!isDeepStrictEqual(current.rules, rules)) await assertNoExperimentOverridden(tx, segmentId, ['rules']);
      }
      const segment = await tx.segment.update({ where: { id: segmentId }, data: { name, description, rules: rules as never } });
      await audit(tx, 'Segment', before, segment);
      // Rules and name (the reason names the segment) count in every environment of the project.
      return { value: segment, environmentIds: await environmentIdsOfProject(tx, projectId) };
    });
  } catch (error) {
    if (name !== undefined && isSegmentNameUniqueViolation(error)) throw duplicateSegmentName(name);
    throw error;
  }
}

/**
 * Deletes a segment; one that overrides features anywhere only with `force`, which removes
 * those overrides in the same transaction. The segment's row lock keeps new overrides out
 * meanwhile; the foreign key from SegmentOverride is the final guard.
 */
async function deleteSegment(prisma: PrismaClient, segmentId: number, force: boolean): Promise<Written<DeletedSegment>> {
  try {
    return await withOverriddenFeaturesLocked(prisma, segmentId, force, async (tx, projectId) => {
      const segment = await tx.segment.findUniqueOrThrow({ where: { id: segmentId } });
      const overrides = await tx.segmentOverride.count({ where: { segmentId } });
      if (overrides > 0 && !force) throw new SegmentInUseError(overrides);
      if (overrides > 0) {
        await assertNoExperimentOverridden(tx, segmentId, ['id']);
        await tx.segmentOverride.deleteMany({ where: { segmentId } });
      }
      await tx.segment.delete({ where: { id: segmentId } });
      await audit(tx, 'Segment', segment, null);
      return { value: { segment, removedOverrides: overrides }, environmentIds: await environmentIdsOfProject(tx, projectId) };
    });
  } catch (error) {
    // 23503: an override of the segment committed after the count; it stays, and so does the segment.
    if (sqlState(error) === '23503') throw new SegmentInUseError(1);
    throw error;
  }
}

/** Another write added an override of the segment for a feature not locked yet: start again. */
class OverriddenFeaturesMoved extends Error {}

/**
 * Runs `write` holding the segment's row lock; with `lockFeatures`, first the rows of every
 * feature the segment overrides, in id order, as each write of who gets what locks its
 * feature before the segment (so the two never wait on each other in a cycle). An override
 * added for another feature before the segment's lock was taken makes the set stale: the
 * transaction starts again with it.
 */
async function withOverriddenFeaturesLocked<T>(
  prisma: PrismaClient,
  segmentId: number,
  lockFeatures: boolean,
  write: (tx: Tx, projectId: number) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await prisma.$transaction(async (tx) => {
        const featureIds = lockFeatures ? await overriddenFeatureIds(tx, segmentId) : [];
        for (const featureId of featureIds) await lockFeature(tx, featureId);
        const { projectId } = await lockSegment(tx, segmentId, ['id']);
        if (lockFeatures) {
          const locked = new Set(featureIds);
          if ((await overriddenFeatureIds(tx, segmentId)).some((id) => !locked.has(id))) throw new OverriddenFeaturesMoved();
        }
        return write(tx, projectId);
      }, TRANSACTION_OPTIONS);
    } catch (error) {
      if (!(error instanceof OverriddenFeaturesMoved) || attempt >= 5) throw error;
    }
  }
}

async function overriddenFeatureIds(tx: Tx, segmentId: number): Promise<number[]> {
  const rows = await tx.segmentOverride.findMany({ where: { segmentId }, select: { featureId: true }, distinct: ['featureId'], orderBy: { featureId: 'asc' } });
  return rows.map((row) => row.featureId);
}

/** EXPERIMENT_RUNNING when a feature the segment overrides runs an experiment in that override's environment. */
async function assertNoExperimentOverridden(tx: Tx, segmentId: number, path: Path): Promise<void> {
  const overrides = await tx.segmentOverride.findMany({
    where: { segmentId },
    select: { featureId: true, environmentId: true },
    orderBy: [{ featureId: 'asc' }, { environmentId: 'asc' }],
  });
  for (const { featureId, environmentId } of overrides) await assertNoRunningExperiment(tx, featureId, environmentId, path);
}

// ---------------------------------------------------------------------------------------
// Segment overrides

/** Creates or changes the override of (environment, feature, segment). */
async function setSegmentOverride(prisma: PrismaClient, input: SetSegmentOverrideInput): Promise<Written<SegmentOverride>> {
  const priorityGiven = input.priority === undefined || input.priority === null ? undefined : normalisePriority(input.priority, ['priority']);
  const allocations = input.allocations === undefined || input.allocations === null ? undefined : normaliseOverrideAllocations(input.allocations);
  const { environmentId, featureId, segmentId } = input;
  let priority: number | undefined;
  try {
    return await prisma.$transaction(async (tx) => {
      const environment = await tx.environment.findUnique({ where: { id: environmentId }, select: { id: true, name: true, projectId: true } });
      if (!environment) throw new NotFoundError('No environment with this id.', null, ['environmentId']);
      await lockFeatureOfProject(tx, featureId, environment.projectId, ['featureId']);
      await assertNoRunningExperiment(tx, featureId, environmentId, ['featureId']);
      await shareSegment(tx, segmentId, environment.projectId, ['segmentId']);
      const existing = await tx.segmentOverride.findUnique({
        where: { environmentId_featureId_segmentId: { environmentId, featureId, segmentId } },
      });
      priority = priorityGiven ?? existing?.priority ?? (await nextOverridePriority(tx, environmentId, featureId));
      if (priority !== existing?.priority) {
        const holder = await tx.segmentOverride.findUnique({
          where: { environmentId_featureId_priority: { environmentId, featureId, priority } },
          select: { id: true },
        });
        if (holder) throw new DuplicatePriorityError(priority);
      }
      if (allocations) await checkOverrideAllocations(tx, featureId, environment, allocations);
      const before = existing && (await segmentOverrideWithAllocations(tx, existing.id));

      const data = { enabled: input.enabled ?? undefined, value: inheritableJson(input.value), priority };
      const override = existing
        ? await tx.segmentOverride.update({ where: { id: existing.id }, data })
        : await tx.segmentOverride.create({
            data: { environmentId, featureId, segmentId, ...data, enabled: input.enabled ?? false, value: inheritableJson(input.value ?? null) },
          });
      if (allocations) {
        await tx.segmentOverrideAllocation.deleteMany({ where: { segmentOverrideId: override.id } });
        await tx.segmentOverrideAllocation.createMany({
          data: allocations.map(({ optionId, weight }) => ({ segmentOverrideId: override.id, optionId, weight })),
        });
      }
      await audit(tx, 'SegmentOverride', before, await segmentOverrideWithAllocations(tx, override.id));
      return { value: override, environmentIds: [environmentId] };
    }, TRANSACTION_OPTIONS);
  } catch (error) {
    if (priority !== undefined && isPriorityUniqueViolation(error)) throw new DuplicatePriorityError(priority);
    // 23503: the segment was deleted after the check (the foreign key refused the override).
    if (sqlState(error) === '23503') throw new NotFoundError('No segment with this id in this project.', null, ['segmentId']);
    throw error;
  }
}

/** The options must be live options of the feature; the weights sum to at most 100. */
async function checkOverrideAllocations(
  tx: Tx,
  featureId: number,
  environment: { id: number; name: string },
  allocations: { optionId: number; weight: number; path: Path }[],
): Promise<void> {
  const live = await tx.multivariateOption.findMany({
    where: { featureId, archivedAt: null, id: { in: allocations.map((allocation) => allocation.optionId) } },
    select: { id: true },
  });
  const liveIds = new Set(live.map((option) => option.id));
  const stranger = allocations.find((allocation) => !liveIds.has(allocation.optionId));
  if (stranger) throw new NotFoundError('No live option of this feature with this id.', null, stranger.path);
  if (weightsExceed100(allocations)) {
    const total = totalWeight(allocations);
    throw new WeightsError(
      `The weights of this segment override in environment "${environment.name}" would sum to ${total}, more than 100.`,
      environment,
      total,
      ['allocations'],
    );
  }
}

async function removeSegmentOverride(prisma: PrismaClient, overrideId: number): Promise<Written<SegmentOverride>> {
  return prisma.$transaction(async (tx) => {
    const override = await tx.segmentOverride.findUnique({ where: { id: overrideId }, select: { featureId: true, feature: { select: { projectId: true } } } });
    if (!override) throw new NotFoundError('No segment override with this id.', null, ['id']);
    await lockFeatureOfProject(tx, override.featureId, override.feature.projectId, ['id']);
    const current = await tx.segmentOverride.findUnique({ where: { id: overrideId } });
    if (!current) throw new NotFoundError('No segment override with this id.', null, ['id']);
    await assertNoRunningExperiment(tx, current.featureId, current.environmentId, ['id']);
    await audit(tx, 'SegmentOverride', await segmentOverrideWithAllocations(tx, overrideId), null);
    await tx.segmentOverride.delete({ where: { id: overrideId } });
    return { value: current, environmentIds: [current.environmentId] };
  }, TRANSACTION_OPTIONS);
}

// ---------------------------------------------------------------------------------------
// Identity overrides

/** Creates or changes an identity's override of a feature; the identity is created on first sight. */
async function setIdentityOverride(prisma: PrismaClient, input: SetIdentityOverrideInput): Promise<Written<IdentityOverride>> {
  const identifier = normaliseIdentifier(input.identifier, ['identifier']);
  const featureName = input.feature.trim();
  return prisma.$transaction(async (tx) => {
    const environment = await tx.environment.findUnique({ where: { id: input.environmentId }, select: { id: true, projectId: true } });
    if (!environment) throw new NotFoundError('No environment with this id.', null, ['environmentId']);
    const feature = isFeatureName(featureName)
      ? await tx.feature.findUnique({ where: { projectId_name: { projectId: environment.projectId, name: featureName } }, select: { id: true } })
      : null;
    if (!feature) throw new ValidationError('FEATURE_NOT_FOUND', `No feature named "${echo(featureName)}" in this project.`, ['feature']);
    // The feature's row first (as every write of who gets what), then the identity's.
    await lockFeatureOfProject(tx, feature.id, environment.projectId, ['feature']);
    await assertNoRunningExperiment(tx, feature.id, environment.id, ['feature']);
    const identityId = await lockIdentity(tx, environment.id, identifier);
    const before = await tx.identityOverride.findUnique({ where: { identityId_featureId: { identityId, featureId: feature.id } } });
    const override = await tx.identityOverride.upsert({
      where: { identityId_featureId: { identityId, featureId: feature.id } },
      create: { identityId, featureId: feature.id, enabled: input.enabled ?? false, value: inheritableJson(input.value ?? null) },
      update: { enabled: input.enabled ?? undefined, value: inheritableJson(input.value) },
    });
    await audit(tx, 'IdentityOverride', before, override);
    return { value: override, environmentIds: [environment.id] };
  }, TRANSACTION_OPTIONS);
}

async function removeIdentityOverride(prisma: PrismaClient, overrideId: number): Promise<Written<IdentityOverride>> {
  return prisma.$transaction(async (tx) => {
    const override = await tx.identityOverride.findUnique({
      where: { id: overrideId },
      include: { identity: { select: { environmentId: true } }, feature: { select: { projectId: true } } },
    });
    if (!override) throw new NotFoundError('No identity override with this id.', null, ['id']);
    await lockFeatureOfProject(tx, override.featureId, override.feature.projectId, ['id']);
    await assertNoRunningExperiment(tx, override.featureId, override.identity.environmentId, ['id']);
    const { identity, feature: _feature, ...removed } = override;
    const { count } = await tx.identityOverride.deleteMany({ where: { id: overrideId } });
    if (count === 0) throw new NotFoundError('No identity override with this id.', null, ['id']);
    await audit(tx, 'IdentityOverride', removed, null);
    return { value: removed, environmentIds: [identity.environmentId] };
  }, TRANSACTION_OPTIONS);
}
