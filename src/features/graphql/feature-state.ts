// The FeatureState node (a feature in one environment, with its weights), the environment's
// list of states, and updateFeatureState.
import { NotFoundError, ValidationError } from '../../errors/app-errors.js';
import type { MultivariateOption } from '../../generated/prisma/client.js';
import { EnvironmentType } from '../../projects/graphql.js';
import { ExperimentRunningError } from '../../experiments/errors.js';
import { builder } from '../../schema/builder.js';
import { readableNode, readByTokens } from '../../schema/nodes.js';
import { payloadType } from '../../schema/payload.js';
import { WeightsError } from '../errors.js';
import { controlWeight, type EffectiveWeight, effectiveWeights } from '../weights.js';
import { announce, decodeId, featureService, liveOptionsInOrder, readers } from './common.js';
import { FeatureType } from './feature.js';
import { MultivariateOptionType } from './option.js';

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

readableNode('FeatureState', { visibleTo: readByTokens, findMany: (prisma, args) => prisma.featureState.findMany(args as never) });

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
const UpdateFeatureStatePayload = payloadType('UpdateFeatureStatePayload', 'featureState', FeatureStateType);

builder.mutationFields((t) => ({
  updateFeatureState: t.field({
    type: UpdateFeatureStatePayload,
    authScopes: { admin: true },
    description: "Sets a feature's enabled flag, value and option weights in one environment.",
    errors: { types: [ValidationError, NotFoundError, WeightsError, ExperimentRunningError] },
    args: { input: t.arg({ type: UpdateFeatureStateInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const written = await featureService(context).updateFeatureState({
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
