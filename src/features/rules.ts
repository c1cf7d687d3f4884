// Rules for features, multivariate options and feature states (SPEC.md sections 1 and 2).
// Every write runs in one transaction that first locks the feature's row: writes to one
// feature then run one after another, so the checks of keys, weights and priorities that a
// write makes still hold when it commits. Each write returns the environments whose
// evaluation it changed, for the caller to announce after the commit.
import { uniqueViolationFields } from '../db/unique-violation.js';
import { DuplicateNameError, NotFoundError, ValidationError } from '../errors/app-errors.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Feature, FeatureState, MultivariateOption, PrismaClient } from '../generated/prisma/client.js';
import { sqlState } from '../exposures/write.js';
import { VariantKeyError } from './errors.js';
import { checkVariantKeyWrites, optionHasExposures } from './variant-keys.js';
import { assertWeightsWithin100, normaliseWeight } from './weights.js';
import { echo } from '../errors/echo.js';

type Tx = Prisma.TransactionClient;
type Path = (string | number)[];

export const FEATURE_NAME_MAX_LENGTH = 150;
const FEATURE_NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;
export const DESCRIPTION_MAX_LENGTH = 2000;
export const OPTION_NAME_MAX_LENGTH = 200;
export const OPTIONS_PER_INPUT_MAX = 100;
export const ALLOCATIONS_PER_INPUT_MAX = 100;

/** Writes queue on the feature's row lock; give them room to wait (PGlite runs one at a time). */
const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 30_000 };

export interface Written<T> {
  value: T;
  /** Environments whose evaluation the write changed. */
  environmentIds: number[];
}

// ---------------------------------------------------------------------------------------
// Input normalisation (pure)

/** Feature names: trimmed, 1-150 characters of A-Z, a-z, 0-9, "_", "." and "-". */
export function normaliseFeatureName(raw: string, path: Path): string {
  const name = raw.trim();
  if (name.length < 1 || name.length > FEATURE_NAME_MAX_LENGTH || !FEATURE_NAME_PATTERN.test(name)) {
    throw new ValidationError(
      'INVALID_FEATURE_NAME',
      `A feature name is 1-${FEATURE_NAME_MAX_LENGTH} characters of A-Z, a-z, 0-9, "_", "." and "-".`,
      path,
    );
  }
  return name;
}

/** Optional text: trimmed, blank is null, at most `max` characters; undefined stays undefined (unchanged). */
function optionalText(raw: string | null | undefined, max: number, path: Path, what: string): string | null | undefined {
  if (raw === undefined) return undefined;
  if (raw === null) return null;
  const text = raw.trim();
  if (text.length > max) throw new ValidationError('INVALID_INPUT', `${what} is at most ${max} characters.`, path);
  return text === '' ? null : text;
}

/** A JSON value of any type; JSON null is stored as JSON null, not as SQL NULL. */
function jsonValue(value: unknown): Prisma.InputJsonValue | typeof Prisma.JsonNull {
  return value === null || value === undefined ? Prisma.JsonNull : (value as Prisma.InputJsonValue);
}

function normalisePriority(raw: number, path: Path): number {
  if (!Number.isSafeInteger(raw) || raw < -2147483648 || raw > 2147483647) {
    throw new ValidationError('INVALID_INPUT', 'A priority is a 32-bit integer.', path);
  }
  return raw;
}

export interface OptionInput {
  key?: string | null;
  name?: string | null;
  description?: string | null;
  value?: unknown;
  defaultWeight?: number | null;
  priority?: number | null;
}

interface NormalisedOption {
  key: string | null | undefined;
  name: string | null | undefined;
  description: string | null | undefined;
  value: unknown;
  defaultWeight: number | undefined;
  priority: number | undefined;
}

/** Everything of an option input but its key, whose rules need the database (checkVariantKeyWrites). */
function normaliseOptionInput(input: OptionInput, path: Path): NormalisedOption {
  return {
    key: input.key,
    name: optionalText(input.name, OPTION_NAME_MAX_LENGTH, [...path, 'name'], 'An option name'),
    description: optionalText(input.description, DESCRIPTION_MAX_LENGTH, [...path, 'description'], 'A description'),
    value: input.value,
    defaultWeight:
      input.defaultWeight === undefined || input.defaultWeight === null
        ? undefined
        : normaliseWeight(input.defaultWeight, [...path, 'defaultWeight']),
    priority: input.priority === undefined || input.priority === null ? undefined : normalisePriority(input.priority, [...path, 'priority']),
  };
}

// ---------------------------------------------------------------------------------------
// Locks and lookups

/** Locks the feature's row for the rest of the transaction; NOT_FOUND when there is none. */
async function lockFeature(tx: Tx, featureId: number, path: Path): Promise<{ id: number; projectId: number }> {
  const rows = await tx.$queryRaw<{ id: number; projectId: number }[]>`
    SELECT "id", "projectId" FROM "Feature" WHERE "id" = ${featureId} FOR UPDATE`;
  if (rows.length === 0) throw new NotFoundError('No feature with this id.', null, path);
  return rows[0];
}

async function environmentIdsOfFeature(tx: Tx, featureId: number): Promise<number[]> {
  const states = await tx.featureState.findMany({ where: { featureId }, select: { environmentId: true } });
  return states.map((state) => state.environmentId);
}

function isFeatureNameUniqueViolation(error: unknown): boolean {
  const fields = uniqueViolationFields(error);
  return (
    fields !== undefined &&
    (fields.includes('Feature_projectId_name_key') || (fields.includes('projectId') && fields.includes('name')))
  );
}

function duplicateFeatureName(name: string, path: Path): DuplicateNameError {
  return new DuplicateNameError('DUPLICATE_FEATURE_NAME', `This project already has a feature named "${echo(name)}".`, name, path);
}

/** The priority after every option of the feature, archived ones included: creation order. */
async function nextPriority(tx: Tx, featureId: number): Promise<number> {
  const { _max } = await tx.multivariateOption.aggregate({ where: { featureId }, _max: { priority: true } });
  return (_max.priority ?? 0) + 1;
}

// ---------------------------------------------------------------------------------------
// Features

export interface CreateFeatureInput {
  projectId: number;
  name: string;
  description?: string | null;
  initialValue?: unknown;
  defaultEnabled?: boolean | null;
  options?: OptionInput[] | null;
}

/**
 * Creates a feature with its options and a FeatureState in every environment of its
 * project. The project's row is locked so that an environment created at the same time
 * either sees this feature or is seen by it (each makes the states of the other).
 */
export async function createFeature(prisma: PrismaClient, input: CreateFeatureInput): Promise<Written<Feature>> {
  const name = normaliseFeatureName(input.name, ['name']);
  const description = optionalText(input.description, DESCRIPTION_MAX_LENGTH, ['description'], 'A description') ?? null;
  const optionInputs = input.options ?? [];
  if (optionInputs.length > OPTIONS_PER_INPUT_MAX) {
    throw new ValidationError('INVALID_INPUT', `At most ${OPTIONS_PER_INPUT_MAX} options per input.`, ['options']);
  }
  const options = optionInputs.map((option, index) => normaliseOptionInput(option, ['options', index]));
  const defaultEnabled = input.defaultEnabled ?? false;
  try {
    return await prisma.$transaction(async (tx) => {
      const projects = await tx.$queryRaw<{ id: number }[]>`SELECT "id" FROM "Project" WHERE "id" = ${input.projectId} FOR UPDATE`;
      if (projects.length === 0) throw new NotFoundError('No project with this id.', null, ['projectId']);
      const taken = await tx.feature.findUnique({ where: { projectId_name: { projectId: input.projectId, name } }, select: { id: true } });
      if (taken) throw duplicateFeatureName(name, ['name']);

      const feature = await tx.feature.create({
        data: { projectId: input.projectId, name, description, initialValue: jsonValue(input.initialValue), defaultEnabled },
      });
      const checked = await checkVariantKeyWrites(
        tx,
        feature.id,
        options.map((option, index) => ({ raw: option.key, path: ['options', index, 'key'] })),
      );
      let priority = 0;
      for (const [index, option] of options.entries()) {
        priority = option.priority ?? priority + 1;
        try {
          await tx.multivariateOption.create({
            data: {
              featureId: feature.id,
              key: checked.keys[index],
              name: option.name ?? null,
              description: option.description ?? null,
              value: jsonValue(option.value),
              defaultWeight: option.defaultWeight ?? 0,
              priority,
            },
          });
        } catch (error) {
          throw checked.duplicateFrom(error) ?? error;
        }
      }
      const environments = await tx.environment.findMany({ where: { projectId: input.projectId }, select: { id: true } });
      await tx.featureState.createMany({
        data: environments.map((environment) => ({ environmentId: environment.id, featureId: feature.id, enabled: defaultEnabled })),
      });
      if (options.length) await assertWeightsWithin100(tx, feature.id, ['options']);
      return { value: feature, environmentIds: environments.map((environment) => environment.id) };
    }, TRANSACTION_OPTIONS);
  } catch (error) {
    if (isFeatureNameUniqueViolation(error)) throw duplicateFeatureName(name, ['name']);
    throw error;
  }
}

export interface UpdateFeatureInput {
  name?: string | null;
  description?: string | null;
  initialValue?: unknown;
  defaultEnabled?: boolean | null;
}

/** Changes what is given; an explicit null clears the description and sets a JSON null initialValue. */
export async function updateFeature(prisma: PrismaClient, featureId: number, input: UpdateFeatureInput): Promise<Written<Feature>> {
  const name = input.name === undefined || input.name === null ? undefined : normaliseFeatureName(input.name, ['name']);
  const description = optionalText(input.description, DESCRIPTION_MAX_LENGTH, ['description'], 'A description');
  try {
    return await prisma.$transaction(async (tx) => {
      const { projectId } = await lockFeature(tx, featureId, ['id']);
      if (name !== undefined) {
        const taken = await tx.feature.findUnique({ where: { projectId_name: { projectId, name } }, select: { id: true } });
        if (taken && taken.id !== featureId) throw duplicateFeatureName(name, ['name']);
      }
      const feature = await tx.feature.update({
        where: { id: featureId },
        data: {
          name,
          description,
          initialValue: input.initialValue === undefined ? undefined : jsonValue(input.initialValue),
          defaultEnabled: input.defaultEnabled ?? undefined,
        },
      });
      return { value: feature, environmentIds: await environmentIdsOfFeature(tx, featureId) };
    }, TRANSACTION_OPTIONS);
  } catch (error) {
    if (name !== undefined && isFeatureNameUniqueViolation(error)) throw duplicateFeatureName(name, ['name']);
    throw error;
  }
}

/**
 * Archives (or, with archived false, restores) a feature: archived features leave
 * evaluation and the default listing. Idempotent: archiving again keeps the first time.
 */
export async function archiveFeature(prisma: PrismaClient, featureId: number, archived: boolean): Promise<Written<Feature>> {
  return prisma.$transaction(async (tx) => {
    await lockFeature(tx, featureId, ['id']);
    const current = await tx.feature.findUniqueOrThrow({ where: { id: featureId } });
    const feature =
      archived === (current.archivedAt !== null)
        ? current
        : await tx.feature.update({ where: { id: featureId }, data: { archivedAt: archived ? new Date() : null } });
    return { value: feature, environmentIds: await environmentIdsOfFeature(tx, featureId) };
  }, TRANSACTION_OPTIONS);
}

// ---------------------------------------------------------------------------------------
// Multivariate options

export async function createMultivariateOption(
  prisma: PrismaClient,
  featureId: number,
  input: OptionInput,
): Promise<Written<MultivariateOption>> {
  const option = normaliseOptionInput(input, []);
  return prisma.$transaction(async (tx) => {
    await lockFeature(tx, featureId, ['featureId']);
    const checked = await checkVariantKeyWrites(tx, featureId, [{ raw: option.key, path: ['key'] }]);
    let created: MultivariateOption;
    try {
      created = await tx.multivariateOption.create({
        data: {
          featureId,
          key: checked.keys[0],
          name: option.name ?? null,
          description: option.description ?? null,
          value: jsonValue(option.value),
          defaultWeight: option.defaultWeight ?? 0,
          priority: option.priority ?? (await nextPriority(tx, featureId)),
        },
      });
    } catch (error) {
      throw checked.duplicateFrom(error) ?? error;
    }
    await assertWeightsWithin100(tx, featureId, ['defaultWeight']);
    return { value: created, environmentIds: await environmentIdsOfFeature(tx, featureId) };
  }, TRANSACTION_OPTIONS);
}

/** The option's feature, read before the transaction: an option never moves to another feature. */
async function featureOfOption(prisma: PrismaClient, optionId: number): Promise<number> {
  const option = await prisma.multivariateOption.findUnique({ where: { id: optionId }, select: { featureId: true } });
  if (!option) throw new NotFoundError('No multivariate option with this id.', null, ['id']);
  return option.featureId;
}

/**
 * Changes what is given. A key may be set when it was null, changed or cleared (null or
 * blank) until exposures were recorded under it; an explicit null value is JSON null.
 */
export async function updateMultivariateOption(
  prisma: PrismaClient,
  optionId: number,
  input: OptionInput,
): Promise<Written<MultivariateOption>> {
  const option = normaliseOptionInput(input, []);
  const featureId = await featureOfOption(prisma, optionId);
  return prisma.$transaction(async (tx) => {
    await lockFeature(tx, featureId, ['id']);
    const current = await tx.multivariateOption.findUnique({ where: { id: optionId } });
    if (!current) throw new NotFoundError('No multivariate option with this id.', null, ['id']);
    const checked = await checkVariantKeyWrites(tx, featureId, [{ option: current, raw: option.key, path: ['key'] }]);
    let updated: MultivariateOption;
    try {
      updated = await tx.multivariateOption.update({
        where: { id: optionId },
        data: {
          key: checked.keys[0],
          name: option.name,
          description: option.description,
          value: input.value === undefined ? undefined : jsonValue(input.value),
          defaultWeight: option.defaultWeight,
          priority: option.priority,
        },
      });
    } catch (error) {
      // 23503: exposures under the old key committed after the check above; the foreign key
      // from Exposure (optionId, variantKey) refuses the change.
      if (sqlState(error) === '23503' && current.key !== null && checked.keys[0] !== current.key) {
        throw new VariantKeyError(
          'VARIANT_KEY_IN_USE',
          `Exposures were recorded under "${current.key}": that key can no longer be changed or cleared.`,
          current.key,
          ['key'],
        );
      }
      throw checked.duplicateFrom(error) ?? error;
    }
    if (option.defaultWeight !== undefined) await assertWeightsWithin100(tx, featureId, ['defaultWeight']);
    return { value: updated, environmentIds: await environmentIdsOfFeature(tx, featureId) };
  }, TRANSACTION_OPTIONS);
}

export interface DeletedOption {
  /** The option as it is now (archived), or as it was before it was deleted. */
  option: MultivariateOption;
  archived: boolean;
}

/**
 * Deletes an option, or archives it when exposures name it (by reference or by key): then it
 * leaves evaluation and its key stays reserved on the feature. Its allocations go either way
 * out of evaluation (deleted with it, or ignored as an archived option's).
 */
export async function deleteMultivariateOption(prisma: PrismaClient, optionId: number): Promise<Written<DeletedOption>> {
  const featureId = await featureOfOption(prisma, optionId);
  try {
    return await deleteOrArchiveOption(prisma, featureId, optionId);
  } catch (error) {
    // 23503: an exposure naming the option committed between the check and the delete, and
    // its foreign key refused the delete. Decide again: the option now has exposures.
    if (sqlState(error) !== '23503') throw error;
    return deleteOrArchiveOption(prisma, featureId, optionId);
  }
}

async function deleteOrArchiveOption(prisma: PrismaClient, featureId: number, optionId: number): Promise<Written<DeletedOption>> {
  return prisma.$transaction(async (tx) => {
    await lockFeature(tx, featureId, ['id']);
    const current = await tx.multivariateOption.findUnique({ where: { id: optionId } });
    if (!current) throw new NotFoundError('No multivariate option with this id.', null, ['id']);
    const environmentIds = await environmentIdsOfFeature(tx, featureId);
    if (await optionHasExposures(tx, current)) {
      const option = current.archivedAt
        ? current
        : await tx.multivariateOption.update({ where: { id: optionId }, data: { archivedAt: new Date() } });
      return { value: { option, archived: true }, environmentIds };
    }
    await tx.multivariateOption.delete({ where: { id: optionId } });
    return { value: { option: current, archived: false }, environmentIds };
  }, TRANSACTION_OPTIONS);
}

// ---------------------------------------------------------------------------------------
// Feature states

export interface AllocationInput {
  optionId: number;
  /** null removes the environment's override: the option's defaultWeight applies again. */
  weight: number | null | undefined;
}

export interface UpdateFeatureStateInput {
  /** The state, or the pair (environmentId, featureId) that names it. */
  stateId?: number;
  environmentId?: number;
  featureId?: number;
  enabled?: boolean | null;
  /** null: inherit the feature's initialValue. */
  value?: unknown;
  /** Overrides to set (or, with weight null, remove); options not listed keep theirs. */
  allocations?: AllocationInput[] | null;
}

async function findState(prisma: PrismaClient, input: UpdateFeatureStateInput): Promise<{ id: number; featureId: number; environmentId: number }> {
  const select = { id: true, featureId: true, environmentId: true } as const;
  if (input.stateId !== undefined) {
    if (input.environmentId !== undefined || input.featureId !== undefined) {
      throw new ValidationError('INVALID_INPUT', 'Name the feature state by id, or by environmentId and featureId, not both.', ['id']);
    }
    const state = await prisma.featureState.findUnique({ where: { id: input.stateId }, select });
    if (!state) throw new NotFoundError('No feature state with this id.', null, ['id']);
    return state;
  }
  if (input.environmentId === undefined || input.featureId === undefined) {
    throw new ValidationError('INVALID_INPUT', 'Name the feature state by id, or by environmentId and featureId.', ['id']);
  }
  const state = await prisma.featureState.findUnique({
    where: { environmentId_featureId: { environmentId: input.environmentId, featureId: input.featureId } },
    select,
  });
  // Also when both exist but belong to different projects.
  if (!state) throw new NotFoundError('No feature state for this environment and feature.', null, ['featureId']);
  return state;
}

/** Sets a feature's enabled flag, value and per-environment weights in one environment. */
export async function updateFeatureState(prisma: PrismaClient, input: UpdateFeatureStateInput): Promise<Written<FeatureState>> {
  if (input.allocations && input.allocations.length > ALLOCATIONS_PER_INPUT_MAX) {
    throw new ValidationError('INVALID_INPUT', `At most ${ALLOCATIONS_PER_INPUT_MAX} allocations per input.`, ['allocations']);
  }
  const allocations = (input.allocations ?? []).map((allocation, index) => ({
    optionId: allocation.optionId,
    weight:
      allocation.weight === null || allocation.weight === undefined
        ? null
        : normaliseWeight(allocation.weight, ['allocations', index, 'weight']),
    path: ['allocations', index, 'optionId'] as Path,
  }));
  const seen = new Set<number>();
  for (const allocation of allocations) {
    if (seen.has(allocation.optionId)) {
      throw new ValidationError('INVALID_INPUT', 'An option is listed twice in allocations.', allocation.path);
    }
    seen.add(allocation.optionId);
  }
  const { id: stateId, featureId } = await findState(prisma, input);
  return prisma.$transaction(async (tx) => {
    await lockFeature(tx, featureId, ['featureId']);
    if (allocations.length) {
      const live = await tx.multivariateOption.findMany({
        where: { featureId, archivedAt: null, id: { in: allocations.map((allocation) => allocation.optionId) } },
        select: { id: true },
      });
      const liveIds = new Set(live.map((option) => option.id));
      const stranger = allocations.find((allocation) => !liveIds.has(allocation.optionId));
      if (stranger) throw new NotFoundError('No live option of this feature with this id.', null, stranger.path);
      for (const { optionId, weight } of allocations) {
        if (weight === null) {
          await tx.variantAllocation.deleteMany({ where: { featureStateId: stateId, optionId } });
        } else {
          await tx.variantAllocation.upsert({
            where: { featureStateId_optionId: { featureStateId: stateId, optionId } },
            create: { featureStateId: stateId, optionId, weight },
            update: { weight },
          });
        }
      }
    }
    const state = await tx.featureState.update({
      where: { id: stateId },
      data: {
        enabled: input.enabled ?? undefined,
        value: input.value === undefined ? undefined : input.value === null ? Prisma.DbNull : (input.value as Prisma.InputJsonValue),
      },
    });
    if (allocations.length) await assertWeightsWithin100(tx, featureId, ['allocations']);
    return { value: state, environmentIds: [state.environmentId] };
  }, TRANSACTION_OPTIONS);
}
