// The commands of features, multivariate options and feature states (SPEC.md sections 1 and 2).
// Every write runs in one transaction that first locks the feature's row: writes to one
// feature then run one after another, so the checks of keys, weights and priorities that a
// write makes still hold when it commits. Each write returns the environments whose
// evaluation it changed, for the caller to announce after the commit.
import { audit } from '../audit/scope.js';
import { DuplicateNameError, NotFoundError } from '../errors/app-errors.js';
import { echo } from '../errors/echo.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Feature, FeatureState, MultivariateOption, PrismaClient } from '../generated/prisma/client.js';
import { sqlState } from '../db/sql-state.js';
import { VariantKeyError, WeightsError } from './errors.js';
import {
  type AllocationInput,
  type CreateFeatureInput,
  featureStateReference,
  normaliseAllocations,
  normaliseFeatureChanges,
  normaliseNewFeature,
  normaliseOptionInput,
  normaliseVariantKey,
  type OptionInput,
  type UpdateFeatureInput,
} from './normalise.js';
import {
  environmentIdsOfFeature,
  featureOfOption,
  featureStateWithAllocations,
  findFeatureState,
  isFeatureNameUniqueViolation,
  isVariantKeyUniqueViolation,
  jsonValue,
  lockFeature,
  lockProject,
  nextPriority,
  optionHasExposures,
  optionsHoldingKeys,
  type Tx,
  variantKeyHasExposures,
  weightsOfFeature,
} from './store.js';
import { assertNoRunningExperiment } from '../experiments/guard.js';
import { effectiveWeights, totalWeight, weightsExceed100 } from './weights.js';

export type { AllocationInput, CreateFeatureInput, OptionInput, UpdateFeatureInput } from './normalise.js';

type Path = (string | number)[];

/** Writes queue on the feature's row lock; give them room to wait (PGlite runs one at a time). */
const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 30_000 };

export interface Written<T> {
  value: T;
  /** Environments whose evaluation the write changed. */
  environmentIds: number[];
}

export interface DeletedOption {
  /** The option as it is now (archived), or as it was before it was deleted. */
  option: MultivariateOption;
  archived: boolean;
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

/** What the features domain offers. */
export interface FeatureService {
  createFeature(input: CreateFeatureInput): Promise<Written<Feature>>;
  updateFeature(featureId: number, input: UpdateFeatureInput): Promise<Written<Feature>>;
  archiveFeature(featureId: number, archived: boolean): Promise<Written<Feature>>;
  createMultivariateOption(featureId: number, input: OptionInput): Promise<Written<MultivariateOption>>;
  updateMultivariateOption(optionId: number, input: OptionInput): Promise<Written<MultivariateOption>>;
  deleteMultivariateOption(optionId: number): Promise<Written<DeletedOption>>;
  updateFeatureState(input: UpdateFeatureStateInput): Promise<Written<FeatureState>>;
}

export function createFeatureService(deps: { prisma: PrismaClient }): FeatureService {
  const { prisma } = deps;
  return {
    createFeature: (input) => createFeature(prisma, input),
    updateFeature: (featureId, input) => updateFeature(prisma, featureId, input),
    archiveFeature: (featureId, archived) => archiveFeature(prisma, featureId, archived),
    createMultivariateOption: (featureId, input) => createMultivariateOption(prisma, featureId, input),
    updateMultivariateOption: (optionId, input) => updateMultivariateOption(prisma, optionId, input),
    deleteMultivariateOption: (optionId) => deleteMultivariateOption(prisma, optionId),
    updateFeatureState: (input) => updateFeatureState(prisma, input),
  };
}

function duplicateFeatureName(name: string, path: Path): DuplicateNameError {
  return new DuplicateNameError('DUPLICATE_FEATURE_NAME', `This project already has a feature named "${echo(name)}".`, name, path);
}

// ---------------------------------------------------------------------------------------
// Variant keys: every path that can write a key (createFeature's nested options,
// createMultivariateOption, updateMultivariateOption) calls checkVariantKeyWrites inside its
// feature's write transaction, and maps a violation of the database's unique index, the
// final guard, with the `duplicateFrom` it returns.

export interface VariantKeyWrite {
  /** The option being updated; absent when the write creates an option. */
  option?: { id: number; key: string | null };
  /** The key as the caller sent it; undefined leaves an existing option's key as it is. */
  raw: string | null | undefined;
  /** Input path of the key, for the error (e.g. ["options", 2, "key"]). */
  path: Path;
}

export interface CheckedVariantKeys {
  /** The key each write stores, in the order of the writes. */
  keys: (string | null)[];
  /** The typed error for a violation of the unique index by these writes, else undefined. */
  duplicateFrom(error: unknown): VariantKeyError | undefined;
}

/**
 * Validates the keys a write on one feature is about to store. Call it inside the feature's
 * write transaction, after the feature row is locked: then no other writer of the feature
 * can slip a key in between this check and the write (the unique index still guards).
 */
export async function checkVariantKeyWrites(tx: Tx, featureId: number, writes: VariantKeyWrite[]): Promise<CheckedVariantKeys> {
  const keys = writes.map((write) => (write.raw === undefined ? (write.option?.key ?? null) : normaliseVariantKey(write.raw, write.path)));

  // Two options of one input with the same key.
  const firstPath = new Map<string, Path>();
  writes.forEach((write, index) => {
    const key = keys[index];
    if (key === null) return;
    if (firstPath.has(key)) {
      throw new VariantKeyError('DUPLICATE_VARIANT_KEY', `The key "${echo(key)}" is given to more than one option.`, key, write.path);
    }
    firstPath.set(key, write.path);
  });

  // Once exposures were recorded under a key, attribution depends on it: it stays.
  for (const [index, write] of writes.entries()) {
    const previous = write.option?.key ?? null;
    if (previous !== null && keys[index] !== previous && (await variantKeyHasExposures(tx, featureId, previous))) {
      throw new VariantKeyError(
        'VARIANT_KEY_IN_USE',
        `Exposures were recorded under "${previous}": that key can no longer be changed or cleared.`,
        previous,
        write.path,
      );
    }
  }

  // Keys already on the feature, archived options included (their keys stay reserved).
  const changed = writes
    .map((write, index) => ({ write, key: keys[index] }))
    .filter(({ write, key }) => key !== null && key !== (write.option?.key ?? null));
  if (changed.length) {
    const taken = await optionsHoldingKeys(tx, featureId, changed.map(({ key }) => key!));
    for (const { write, key } of changed) {
      const holder = taken.find((option) => option.key === key && option.id !== write.option?.id);
      if (holder) {
        const archived = holder.archivedAt ? ' (an archived option: its key stays reserved)' : '';
        throw new VariantKeyError('DUPLICATE_VARIANT_KEY', `Another option of this feature has the key "${echo(key!)}"${archived}.`, key, write.path);
      }
    }
  }

  return {
    keys,
    duplicateFrom(error) {
      if (!isVariantKeyUniqueViolation(error)) return undefined;
      const written = changed.length === 1 ? changed[0] : undefined;
      return new VariantKeyError(
        'DUPLICATE_VARIANT_KEY',
        written ? `Another option of this feature has the key "${echo(written.key!)}".` : 'Another option of this feature has one of these keys.',
        written?.key ?? null,
        written?.write.path ?? writes[0]?.path.slice(0, 1) ?? [],
      );
    },
  };
}

// ---------------------------------------------------------------------------------------
// Weights

/**
 * Checks every environment of a feature after a write that can change a sum, inside the
 * write's transaction (the feature row is locked, so no concurrent write can add to a sum
 * that this check has passed). The default weights alone must fit too, as in Flagsmith:
 * they are what an environment created later starts with.
 */
async function assertWeightsWithin100(tx: Tx, featureId: number, path: Path): Promise<void> {
  const { options, states } = await weightsOfFeature(tx, featureId);
  for (const state of states) {
    const weights = effectiveWeights(options, state.allocations);
    if (weightsExceed100(weights)) {
      const total = totalWeight(weights);
      throw new WeightsError(
        `The weights of the options in environment "${state.environment.name}" would sum to ${total}, more than 100.`,
        state.environment,
        total,
        path,
      );
    }
  }
  const defaultWeights = effectiveWeights(options, []);
  if (weightsExceed100(defaultWeights)) {
    const defaults = totalWeight(defaultWeights);
    throw new WeightsError(
      `The default weights of the options would sum to ${defaults}, more than 100 (new environments start with them).`,
      null,
      defaults,
      path,
    );
  }
}

// ---------------------------------------------------------------------------------------
// Features

/**
 * Creates a feature with its options and a FeatureState in every environment of its
 * project. The project's row is locked so that an environment created at the same time
 * either sees this feature or is seen by it (each makes the states of the other).
 */
export async function createFeature(prisma: PrismaClient, input: CreateFeatureInput): Promise<Written<Feature>> {
  const { name, description, options, defaultEnabled } = normaliseNewFeature(input);
  try {
    return await prisma.$transaction(async (tx) => {
      await lockProject(tx, input.projectId, ['projectId']);
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
      const createdOptions: MultivariateOption[] = [];
      for (const [index, option] of options.entries()) {
        priority = option.priority ?? priority + 1;
        try {
          createdOptions.push(await tx.multivariateOption.create({
            data: {
              featureId: feature.id,
              key: checked.keys[index],
              name: option.name ?? null,
              description: option.description ?? null,
              value: jsonValue(option.value),
              defaultWeight: option.defaultWeight ?? 0,
              priority,
            },
          }));
        } catch (error) {
          throw checked.duplicateFrom(error) ?? error;
        }
      }
      const environments = await tx.environment.findMany({ where: { projectId: input.projectId }, select: { id: true } });
      await tx.featureState.createMany({
        data: environments.map((environment) => ({ environmentId: environment.id, featureId: feature.id, enabled: defaultEnabled })),
      });
      if (options.length) await assertWeightsWithin100(tx, feature.id, ['options']);
      await audit(tx, 'Feature', null, { ...feature, options: createdOptions });
      return { value: feature, environmentIds: environments.map((environment) => environment.id) };
    }, TRANSACTION_OPTIONS);
  } catch (error) {
    if (isFeatureNameUniqueViolation(error)) throw duplicateFeatureName(name, ['name']);
    throw error;
  }
}

/** Changes what is given; an explicit null clears the description and sets a JSON null initialValue. */
export async function updateFeature(prisma: PrismaClient, featureId: number, input: UpdateFeatureInput): Promise<Written<Feature>> {
  const { name, description } = normaliseFeatureChanges(input);
  try {
    return await prisma.$transaction(async (tx) => {
      const { projectId } = await lockFeature(tx, featureId, ['id']);
      const before = await tx.feature.findUniqueOrThrow({ where: { id: featureId } });
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
      await audit(tx, 'Feature', before, feature);
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
    await assertNoRunningExperiment(tx, featureId, null, ['id']);
    const current = await tx.feature.findUniqueOrThrow({ where: { id: featureId } });
    const feature =
      archived === (current.archivedAt !== null)
        ? current
        : await tx.feature.update({ where: { id: featureId }, data: { archivedAt: archived ? new Date() : null } });
    await audit(tx, 'Feature', current, feature);
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
    await assertNoRunningExperiment(tx, featureId, null, ['featureId']);
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
    await audit(tx, 'MultivariateOption', null, created);
    return { value: created, environmentIds: await environmentIdsOfFeature(tx, featureId) };
  }, TRANSACTION_OPTIONS);
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
    // Name and description change nobody's variant; everything else does.
    const changesWhoGetsWhat = ['key', 'value', 'defaultWeight', 'priority'].some((field) => field in input && (input as Record<string, unknown>)[field] !== undefined);
    if (changesWhoGetsWhat) await assertNoRunningExperiment(tx, featureId, null, ['id']);
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
    await audit(tx, 'MultivariateOption', current, updated);
    return { value: updated, environmentIds: await environmentIdsOfFeature(tx, featureId) };
  }, TRANSACTION_OPTIONS);
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
    await assertNoRunningExperiment(tx, featureId, null, ['id']);
    const environmentIds = await environmentIdsOfFeature(tx, featureId);
    if (await optionHasExposures(tx, current)) {
      const option = current.archivedAt
        ? current
        : await tx.multivariateOption.update({ where: { id: optionId }, data: { archivedAt: new Date() } });
      await audit(tx, 'MultivariateOption', current, option);
      return { value: { option, archived: true }, environmentIds };
    }
    await tx.multivariateOption.delete({ where: { id: optionId } });
    await audit(tx, 'MultivariateOption', current, null);
    return { value: { option: current, archived: false }, environmentIds };
  }, TRANSACTION_OPTIONS);
}

// ---------------------------------------------------------------------------------------
// Feature states

/** Sets a feature's enabled flag, value and per-environment weights in one environment. */
export async function updateFeatureState(prisma: PrismaClient, input: UpdateFeatureStateInput): Promise<Written<FeatureState>> {
  const allocations = normaliseAllocations(input.allocations);
  const { id: stateId, featureId, environmentId } = await findFeatureState(prisma, featureStateReference(input));
  return prisma.$transaction(async (tx) => {
    await lockFeature(tx, featureId, ['featureId']);
    // The kill switch (enabled) stays free while an experiment runs; value and weights do not.
    if (input.value !== undefined) await assertNoRunningExperiment(tx, featureId, environmentId, ['value']);
    if (input.allocations != null) await assertNoRunningExperiment(tx, featureId, environmentId, ['allocations']);
    const before = await featureStateWithAllocations(tx, { id: stateId });
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
    // Recorded before the sums are checked: a refusal there rolls the entry back with the change.
    await audit(tx, 'FeatureState', before, await featureStateWithAllocations(tx, { id: stateId }));
    if (allocations.length) await assertWeightsWithin100(tx, featureId, ['allocations']);
    return { value: state, environmentIds: [state.environmentId] };
  }, TRANSACTION_OPTIONS);
}
