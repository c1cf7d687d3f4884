// The SegmentOverride node (what a feature serves a segment in one environment), the feature
// state's overrides in priority order, setSegmentOverride and removeSegmentOverride.
import { NotFoundError, ValidationError } from '../../errors/app-errors.js';
import { WeightsError } from '../../features/errors.js';
import { FeatureStateType, FeatureType, MultivariateOptionType } from '../../features/graphql/index.js';
import { EnvironmentType } from '../../projects/graphql.js';
import { ExperimentRunningError } from '../../experiments/errors.js';
import { builder } from '../../schema/builder.js';
import { readableNode, readByTokens } from '../../schema/nodes.js';
import { payloadType } from '../../schema/payload.js';
import { DuplicatePriorityError } from '../errors.js';
import { announce, decodeId, readers, targetingService } from './common.js';
import { SegmentType } from './segment.js';

builder.prismaObject('SegmentOverrideAllocation', {
  description: "A segment override's own weight for an option.",
  fields: (t) => ({
    option: t.relation('option'),
    weight: t.exposeFloat('weight'),
  }),
});

export const SegmentOverrideType = builder.prismaNode('SegmentOverride', {
  id: { field: 'id' },
  nullable: true,
  authScopes: readers,
  description: 'What a feature serves, in one environment, to the identities of a segment. Lower priority wins.',
  fields: (t) => ({
    environment: t.relation('environment'),
    feature: t.relation('feature'),
    segment: t.relation('segment'),
    enabled: t.exposeBoolean('enabled'),
    value: t.field({
      type: 'JSON',
      nullable: true,
      description: "The value served; null when it is the feature state's value.",
      resolve: (override) => override.value,
    }),
    priority: t.exposeInt('priority', { description: 'Among the overrides of the feature in the environment, the lowest that matches wins.' }),
    allocations: t.relation('allocations', {
      description: "The override's own weights of live options; when there are none, its value is served without a split.",
      query: { where: { option: { archivedAt: null } }, orderBy: [{ option: { priority: 'asc' } }, { optionId: 'asc' }] },
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

readableNode('SegmentOverride', { visibleTo: readByTokens, findMany: (prisma, args) => prisma.segmentOverride.findMany(args as never) });

builder.prismaObjectField(FeatureStateType, 'segmentOverrides', (t) =>
  t.prismaField({
    type: ['SegmentOverride'],
    authScopes: readers,
    description: "The feature's segment overrides in this environment, in priority order (lowest first).",
    resolve: (query, state, _args, context) =>
      context.prisma.segmentOverride.findMany({
        ...query,
        where: { environmentId: state.environmentId, featureId: state.featureId },
        orderBy: { priority: 'asc' },
      }),
  }),
);

const SegmentOverrideAllocationInput = builder.inputType('SegmentOverrideAllocationInput', {
  fields: (t) => ({
    optionId: t.globalID({ required: true, for: [MultivariateOptionType] }),
    weight: t.float({ required: true, description: 'Percentage 0-100 with at most 2 decimals.' }),
  }),
});

const SetSegmentOverrideInput = builder.inputType('SetSegmentOverrideInput', {
  description: 'Creates the override of (environment, feature, segment), or changes it: fields left out stay as they are.',
  fields: (t) => ({
    environmentId: t.globalID({ required: true, for: [EnvironmentType] }),
    featureId: t.globalID({ required: true, for: [FeatureType] }),
    segmentId: t.globalID({ required: true, for: [SegmentType] }),
    enabled: t.boolean({ description: 'Default false for a new override.' }),
    value: t.field({ type: 'JSON', description: "The value served to the segment; null serves the feature state's value." }),
    priority: t.int({ description: 'Unique per environment and feature; lower wins. Default: after the existing overrides.' }),
    allocations: t.field({
      type: [SegmentOverrideAllocationInput],
      description: "The override's own option weights (at most 100, summing to at most 100), replacing those it had; [] removes them.",
    }),
  }),
});

const RemoveSegmentOverrideInput = builder.inputType('RemoveSegmentOverrideInput', {
  fields: (t) => ({ id: t.globalID({ required: true, for: [SegmentOverrideType] }) }),
});

const SetSegmentOverridePayload = payloadType('SetSegmentOverridePayload', 'segmentOverride', SegmentOverrideType);
const RemoveSegmentOverridePayload = payloadType('RemoveSegmentOverridePayload', 'segmentOverride', SegmentOverrideType);

builder.mutationFields((t) => ({
  setSegmentOverride: t.field({
    type: SetSegmentOverridePayload,
    authScopes: { admin: true },
    description: 'Creates or changes what a feature serves to a segment in one environment.',
    errors: { types: [ValidationError, NotFoundError, DuplicatePriorityError, WeightsError, ExperimentRunningError] },
    args: { input: t.arg({ type: SetSegmentOverrideInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const written = await targetingService(context).setSegmentOverride({
        environmentId: decodeId(input.environmentId),
        featureId: decodeId(input.featureId),
        segmentId: decodeId(input.segmentId),
        enabled: input.enabled,
        value: input.value,
        priority: input.priority,
        allocations: input.allocations?.map((allocation) => ({ optionId: decodeId(allocation.optionId), weight: allocation.weight })),
      });
      await announce(context, written.environmentIds);
      return { segmentOverride: written.value };
    },
  }),
  removeSegmentOverride: t.field({
    type: RemoveSegmentOverridePayload,
    authScopes: { admin: true },
    description: 'Removes a segment override (with its weights).',
    errors: { types: [NotFoundError, ExperimentRunningError] },
    args: { input: t.arg({ type: RemoveSegmentOverrideInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const written = await targetingService(context).removeSegmentOverride(decodeId(input.id));
      await announce(context, written.environmentIds);
      return { segmentOverride: written.value };
    },
  }),
}));
