// GraphQL types and operations for features, multivariate options and feature states.
// Resolvers decode ids, call the rules of rules.ts, and announce the environments whose
// evaluation changed once the write has committed.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { type Context, emitEnvironmentsChanged } from '../context.js';
import { escapeLike } from '../db/like.js';
import { DuplicateNameError, NotFoundError, ValidationError } from '../errors/app-errors.js';
import { ErrorInterface } from '../errors/graphql.js';
import type { MultivariateOption } from '../generated/prisma/client.js';
import { EnvironmentType, ProjectType } from '../projects/graphql.js';
import { builder, numericId } from '../schema/builder.js';
import { readableNode, readByTokens } from '../schema/nodes.js';
import { payloadType } from '../schema/payload.js';
import { VariantKeyError, WeightsError } from './errors.js';
import {
  archiveFeature,
  createFeature,
  createMultivariateOption,
  deleteMultivariateOption,
  type DeletedOption,
  type OptionInput,
  updateFeature,
  updateFeatureState,
  updateMultivariateOption,
} from './rules.js';
import { controlWeight, type EffectiveWeight, effectiveWeights } from './weights.js';

const readers = { $any: { admin: true, analytics: true } } as const;
const liveOptionsInOrder = {
  where: { archivedAt: null },
  orderBy: [{ priority: 'asc' as const }, { id: 'asc' as const }],
};

/** The database id of a global id that src/schema/global-id.ts has checked. */
function decodeId(decoded: { id: string }): number {
  return numericId(decoded.id);
}

/** Tells the evaluation cache; the write has committed, so a listener's failure is only logged. */
async function announce(context: Context, environmentIds: number[]): Promise<void> {
  try {
    await emitEnvironmentsChanged(context.services, environmentIds);
  } catch (error) {
    context.logger.error({ err: error, environmentIds }, 'an environmentsChanged listener failed');
  }
}

// ---------------------------------------------------------------------------------------
// Object types

export const FeatureType = builder.prismaNode('Feature', {
  id: { field: 'id' },
  // node(id) of a row that no longer exists (a deleted option) answers null, not an error.
  nullable: true,
  authScopes: readers,
  description: 'A feature flag of a project; multivariate when it has live options.',
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    initialValue: t.field({
      type: 'JSON',
      nullable: true,
      description: 'The value served when an environment sets none and no variant wins (any JSON).',
      resolve: (feature) => feature.initialValue,
    }),
    defaultEnabled: t.exposeBoolean('defaultEnabled', { description: 'Whether the states of new environments start enabled.' }),
    archivedAt: t.expose('archivedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    project: t.relation('project'),
    isMultivariate: t.boolean({
      description: 'Whether the feature has at least one live (not archived) option.',
      select: { options: { where: { archivedAt: null }, select: { id: true }, take: 1 } },
      resolve: (feature) => feature.options.length > 0,
    }),
    options: t.relation('options', {
      description: 'The options in evaluation order (priority, then creation); archived ones only when asked for.',
      args: { includeArchived: t.arg.boolean({ required: true, defaultValue: false }) },
      query: (args) => ({
        where: args.includeArchived ? {} : { archivedAt: null },
        orderBy: liveOptionsInOrder.orderBy,
      }),
    }),
    states: t.relation('states', {
      description: "The feature's state in each environment of its project.",
      query: { orderBy: { environmentId: 'asc' } },
    }),
    state: t.prismaField({
      type: 'FeatureState',
      nullable: true,
      description: "The feature's state in one environment.",
      args: { environmentId: t.arg.globalID({ required: true, for: [EnvironmentType] }) },
      resolve: (query, feature, args, context) =>
        context.prisma.featureState.findUnique({
          ...query,
          where: { environmentId_featureId: { environmentId: decodeId(args.environmentId), featureId: feature.id } },
        }),
    }),
  }),
});

export const MultivariateOptionType = builder.prismaNode('MultivariateOption', {
  id: { field: 'id' },
  nullable: true,
  authScopes: readers,
  description: 'A variant of a multivariate feature.',
  fields: (t) => ({
    key: t.exposeString('key', {
      nullable: true,
      description: 'The variant key exposures are attributed to (unique per feature); null when the option has none.',
    }),
    name: t.exposeString('name', { nullable: true }),
    description: t.exposeString('description', { nullable: true }),
    value: t.field({ type: 'JSON', nullable: true, description: 'The value served for this variant (any JSON).', resolve: (option) => option.value }),
    defaultWeight: t.exposeFloat('defaultWeight', { description: 'Percentage of identities (0-100) unless an environment overrides it.' }),
    priority: t.exposeInt('priority', { description: 'Evaluation order: lower first; ties by creation.' }),
    archivedAt: t.expose('archivedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'Set when the option was deleted after exposures named it: out of evaluation, its key reserved.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    feature: t.relation('feature'),
  }),
});

builder.prismaObject('VariantAllocation', {
  description: "An environment's override of an option's defaultWeight.",
  fields: (t) => ({
    option: t.relation('option'),
    weight: t.exposeFloat('weight'),
  }),
});

const EffectiveWeightType = builder.objectRef<EffectiveWeight<MultivariateOption>>('EffectiveWeight').implement({
  description: "A live option's weight in one environment.",
  fields: (t) => ({
    option: t.field({ type: MultivariateOptionType, resolve: (weight) => weight.option }),
    key: t.string({ nullable: true, resolve: (weight) => weight.option.key }),
    weight: t.exposeFloat('weight', { description: "The environment's allocation, else the option's defaultWeight." }),
    overridden: t.exposeBoolean('overridden', { description: "Whether the environment's allocation sets the weight." }),
  }),
});

const weightSelection = {
  allocations: { select: { optionId: true, weight: true } },
  feature: { select: { options: liveOptionsInOrder } },
} as const;

export const FeatureStateType = builder.prismaNode('FeatureState', {
  id: { field: 'id' },
  nullable: true,
  authScopes: readers,
  description: 'A feature in one environment. Its id is the hashing key of variant assignment: it is never recreated.',
  fields: (t) => ({
    environment: t.relation('environment'),
    feature: t.relation('feature'),
    enabled: t.exposeBoolean('enabled'),
    value: t.field({
      type: 'JSON',
      nullable: true,
      description: "The environment's own value; null when it inherits the feature's initialValue.",
      resolve: (state) => state.value,
    }),
    effectiveValue: t.field({
      type: 'JSON',
      nullable: true,
      description: "The value served outside the variants: the environment's value, else the feature's initialValue.",
      select: { feature: { select: { initialValue: true } } },
      resolve: (state) => state.value ?? state.feature.initialValue,
    }),
    allocations: t.relation('allocations', {
      description: "This environment's weight overrides of live options.",
      query: { where: { option: { archivedAt: null } }, orderBy: [{ option: { priority: 'asc' } }, { optionId: 'asc' }] },
    }),
    weights: t.field({
      type: [EffectiveWeightType],
      description: 'Each live option with its effective weight here, in evaluation order.',
      select: weightSelection,
      resolve: (state) => effectiveWeights(state.feature.options, state.allocations),
    }),
    controlWeight: t.float({
      description: 'The share (0-100) left to the control bucket here.',
      select: weightSelection,
      resolve: (state) => controlWeight(effectiveWeights(state.feature.options, state.allocations)),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

readableNode('Feature', { visibleTo: readByTokens, findMany: (prisma, args) => prisma.feature.findMany(args as never) });
readableNode('MultivariateOption', { visibleTo: readByTokens, findMany: (prisma, args) => prisma.multivariateOption.findMany(args as never) });
readableNode('FeatureState', { visibleTo: readByTokens, findMany: (prisma, args) => prisma.featureState.findMany(args as never) });

builder.prismaObjectField('Project', 'features', (t) =>
  t.relatedConnection(
    'features',
    {
      cursor: 'id',
      authScopes: readers,
      description: "The project's features in creation order; archived ones only when asked for.",
      defaultSize: 50,
      maxSize: 500,
      totalCount: true,
      args: {
        name: t.arg.string({ description: 'Only the feature with exactly this name.' }),
        nameContains: t.arg.string({ description: 'Only features whose name contains this (any case).' }),
        includeArchived: t.arg.boolean({ required: true, defaultValue: false }),
      },
      query: (args) => ({
        where: {
          AND: [
            args.includeArchived ? {} : { archivedAt: null },
            args.name != null ? { name: args.name.trim() } : {},
            // Prisma passes `contains` into ILIKE as given: escaped, it is a literal substring.
            args.nameContains != null ? { name: { contains: escapeLike(args.nameContains), mode: 'insensitive' as const } } : {},
          ],
        },
        orderBy: { id: 'asc' },
      }),
    },
    { name: 'FeatureConnection' },
    { name: 'FeatureEdge' },
  ),
);

builder.prismaObjectField('Environment', 'featureStates', (t) =>
  t.relatedConnection(
    'featureStates',
    {
      cursor: 'id',
      authScopes: readers,
      description: "The environment's feature states; those of archived features only when asked for.",
      defaultSize: 50,
      maxSize: 500,
      args: { includeArchived: t.arg.boolean({ required: true, defaultValue: false }) },
      query: (args) => ({
        where: args.includeArchived ? {} : { feature: { archivedAt: null } },
        orderBy: { id: 'asc' },
      }),
    },
    { name: 'FeatureStateConnection' },
    { name: 'FeatureStateEdge' },
  ),
);

// ---------------------------------------------------------------------------------------
// Error types

builder.objectType(VariantKeyError, {
  name: 'VariantKeyError',
  description:
    'A variant key breaks a rule: INVALID_VARIANT_KEY, RESERVED_VARIANT_KEY, DUPLICATE_VARIANT_KEY or VARIANT_KEY_IN_USE.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof VariantKeyError,
  fields: (t) => ({
    key: t.string({ nullable: true, description: 'The key at fault (trimmed).', resolve: (error) => error.key }),
    path: t.stringList({ resolve: (error) => error.path.map(String) }),
  }),
});

builder.objectType(WeightsError, {
  name: 'WeightsError',
  description: "WEIGHTS_EXCEED_100: the options' weights in an environment (or their default weights) would sum to more than 100.",
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof WeightsError,
  fields: (t) => ({
    environmentId: t.id({
      nullable: true,
      description: 'The environment whose sum is too high; null for the default weights.',
      resolve: (error) => (error.environment ? encodeGlobalID('Environment', error.environment.id) : null),
    }),
    environmentName: t.string({ nullable: true, resolve: (error) => error.environment?.name ?? null }),
    total: t.float({ description: 'The sum the write would have made.', resolve: (error) => error.total }),
    path: t.stringList({ resolve: (error) => error.path.map(String) }),
  }),
});

// ---------------------------------------------------------------------------------------
// Inputs and payloads

const optionFields = (t: PothosSchemaTypes.InputFieldBuilder<typeof builder.$inferSchemaTypes, 'InputObject'>) => ({
  key: t.string({ description: 'Variant key: trimmed, blank means none; 1-100 of [A-Za-z0-9_.-], not "control".' }),
  name: t.string({ description: 'Display name, at most 200 characters.' }),
  description: t.string({ description: 'At most 2000 characters.' }),
  value: t.field({ type: 'JSON', description: 'Any JSON value; omitted or null is JSON null.' }),
  defaultWeight: t.float({ description: 'Percentage 0-100 with at most 2 decimals (default 0).' }),
  priority: t.int({ description: 'Evaluation order; default after every existing option (creation order).' }),
});

const NewMultivariateOptionInput = builder.inputType('NewMultivariateOptionInput', {
  description: 'An option created with its feature.',
  fields: (t) => optionFields(t),
});

const CreateFeatureInput = builder.inputType('CreateFeatureInput', {
  fields: (t) => ({
    projectId: t.globalID({ required: true, for: [ProjectType] }),
    name: t.string({ required: true, description: '1-150 characters of [A-Za-z0-9_.-], unique in the project.' }),
    description: t.string(),
    initialValue: t.field({ type: 'JSON', description: 'Any JSON value; omitted or null is JSON null.' }),
    defaultEnabled: t.boolean({ description: 'Whether the feature starts enabled in every environment (default false).' }),
    options: t.field({ type: [NewMultivariateOptionInput], description: 'Options to create with it (at most 100).' }),
  }),
});

const UpdateFeatureInput = builder.inputType('UpdateFeatureInput', {
  fields: (t) => ({
    id: t.globalID({ required: true, for: [FeatureType] }),
    name: t.string(),
    description: t.string({ description: 'null or blank clears it.' }),
    initialValue: t.field({ type: 'JSON', description: 'Any JSON value (explicit null is JSON null).' }),
    defaultEnabled: t.boolean(),
  }),
});

const ArchiveFeatureInput = builder.inputType('ArchiveFeatureInput', {
  fields: (t) => ({
    id: t.globalID({ required: true, for: [FeatureType] }),
    archived: t.boolean({ defaultValue: true, description: 'false restores an archived feature.' }),
  }),
});

const CreateMultivariateOptionInput = builder.inputType('CreateMultivariateOptionInput', {
  fields: (t) => ({ featureId: t.globalID({ required: true, for: [FeatureType] }), ...optionFields(t) }),
});

const UpdateMultivariateOptionInput = builder.inputType('UpdateMultivariateOptionInput', {
  description: 'Fields left out stay as they are.',
  fields: (t) => ({
    id: t.globalID({ required: true, for: [MultivariateOptionType] }),
    ...optionFields(t),
    key: t.string({
      description: 'New variant key; null or blank clears it. Fixed once exposures were recorded under it (VARIANT_KEY_IN_USE).',
    }),
  }),
});

const DeleteMultivariateOptionInput = builder.inputType('DeleteMultivariateOptionInput', {
  fields: (t) => ({ id: t.globalID({ required: true, for: [MultivariateOptionType] }) }),
});

const VariantAllocationInput = builder.inputType('VariantAllocationInput', {
  fields: (t) => ({
    optionId: t.globalID({ required: true, for: [MultivariateOptionType] }),
    weight: t.float({ description: "Percentage 0-100 with at most 2 decimals in this environment; null removes the override (the option's defaultWeight applies)." }),
  }),
});

const UpdateFeatureStateInput = builder.inputType('UpdateFeatureStateInput', {
  description: 'Names the state by `id`, or by `environmentId` and `featureId`. Fields left out stay as they are.',
  fields: (t) => ({
    id: t.globalID({ for: [FeatureStateType] }),
    environmentId: t.globalID({ for: [EnvironmentType] }),
    featureId: t.globalID({ for: [FeatureType] }),
    enabled: t.boolean(),
    value: t.field({ type: 'JSON', description: "This environment's value; null inherits the feature's initialValue." }),
    allocations: t.field({
      type: [VariantAllocationInput],
      description: 'Weight overrides to set in this environment (at most 100); options not listed keep theirs.',
    }),
  }),
});

const CreateFeaturePayload = payloadType('CreateFeaturePayload', 'feature', FeatureType);
const UpdateFeaturePayload = payloadType('UpdateFeaturePayload', 'feature', FeatureType);
const ArchiveFeaturePayload = payloadType('ArchiveFeaturePayload', 'feature', FeatureType);
const CreateMultivariateOptionPayload = payloadType('CreateMultivariateOptionPayload', 'option', MultivariateOptionType);
const UpdateMultivariateOptionPayload = payloadType('UpdateMultivariateOptionPayload', 'option', MultivariateOptionType);
const UpdateFeatureStatePayload = payloadType('UpdateFeatureStatePayload', 'featureState', FeatureStateType);
const DeleteMultivariateOptionPayload = builder.objectRef<DeletedOption>('DeleteMultivariateOptionPayload').implement({
  fields: (t) => ({
    option: t.field({
      type: MultivariateOptionType,
      description: 'The archived option, or the deleted one as it was.',
      resolve: (payload) => payload.option,
    }),
    archived: t.exposeBoolean('archived', {
      description: 'true: exposures name the option, so it was archived (its key stays reserved); false: it was deleted.',
    }),
  }),
});


/** Only the fields the caller sent: an absent field and an explicit null differ in updates. */
function optionInput(args: OptionInput): OptionInput {
  const input: OptionInput = {};
  for (const field of ['key', 'name', 'description', 'value', 'defaultWeight', 'priority'] as const) {
    if (field in args && args[field] !== undefined) (input as Record<string, unknown>)[field] = args[field];
  }
  return input;
}

builder.mutationFields((t) => ({
  createFeature: t.field({
    type: CreateFeaturePayload,
    authScopes: { admin: true },
    description: 'Creates a feature, its options, and its state in every environment of the project.',
    errors: { types: [ValidationError, NotFoundError, DuplicateNameError, VariantKeyError, WeightsError] },
    args: { input: t.arg({ type: CreateFeatureInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const written = await createFeature(context.prisma, {
        projectId: decodeId(input.projectId),
        name: input.name,
        description: input.description,
        initialValue: input.initialValue,
        defaultEnabled: input.defaultEnabled,
        options: input.options?.map(optionInput),
      });
      await announce(context, written.environmentIds);
      return { feature: written.value };
    },
  }),
  updateFeature: t.field({
    type: UpdateFeaturePayload,
    authScopes: { admin: true },
    errors: { types: [ValidationError, NotFoundError, DuplicateNameError] },
    args: { input: t.arg({ type: UpdateFeatureInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const written = await updateFeature(context.prisma, decodeId(input.id), {
        name: input.name,
        description: input.description,
        initialValue: input.initialValue,
        defaultEnabled: input.defaultEnabled,
      });
      await announce(context, written.environmentIds);
      return { feature: written.value };
    },
  }),
  archiveFeature: t.field({
    type: ArchiveFeaturePayload,
    authScopes: { admin: true },
    description: 'Archives a feature (idempotent): it leaves evaluation and the default feature list.',
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: ArchiveFeatureInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const written = await archiveFeature(context.prisma, decodeId(input.id), input.archived ?? true);
      await announce(context, written.environmentIds);
      return { feature: written.value };
    },
  }),
  createMultivariateOption: t.field({
    type: CreateMultivariateOptionPayload,
    authScopes: { admin: true },
    errors: { types: [ValidationError, NotFoundError, VariantKeyError, WeightsError] },
    args: { input: t.arg({ type: CreateMultivariateOptionInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const featureId = decodeId(input.featureId);
      const written = await createMultivariateOption(context.prisma, featureId, optionInput(input));
      await announce(context, written.environmentIds);
      return { option: written.value };
    },
  }),
  updateMultivariateOption: t.field({
    type: UpdateMultivariateOptionPayload,
    authScopes: { admin: true },
    errors: { types: [ValidationError, NotFoundError, VariantKeyError, WeightsError] },
    args: { input: t.arg({ type: UpdateMultivariateOptionInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const optionId = decodeId(input.id);
      const written = await updateMultivariateOption(context.prisma, optionId, optionInput(input));
      await announce(context, written.environmentIds);
      return { option: written.value };
    },
  }),
  deleteMultivariateOption: t.field({
    type: DeleteMultivariateOptionPayload,
    authScopes: { admin: true },
    description: 'Deletes an option; archives it instead when exposures name it.',
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: DeleteMultivariateOptionInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const written = await deleteMultivariateOption(context.prisma, decodeId(input.id));
      await announce(context, written.environmentIds);
      return written.value;
    },
  }),
  updateFeatureState: t.field({
    type: UpdateFeatureStatePayload,
    authScopes: { admin: true },
    description: "Sets a feature's enabled flag, value and option weights in one environment.",
    errors: { types: [ValidationError, NotFoundError, WeightsError] },
    args: { input: t.arg({ type: UpdateFeatureStateInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const written = await updateFeatureState(context.prisma, {
        stateId: input.id == null ? undefined : decodeId(input.id),
        environmentId: input.environmentId == null ? undefined : decodeId(input.environmentId),
        featureId: input.featureId == null ? undefined : decodeId(input.featureId),
        enabled: input.enabled,
        value: input.value,
        allocations: input.allocations?.map((allocation) => ({
          optionId: decodeId(allocation.optionId),
          weight: allocation.weight,
        })),
      });
      await announce(context, written.environmentIds);
      return { featureState: written.value };
    },
  }),
}));
