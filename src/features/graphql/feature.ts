// The Feature node: its fields, the project's feature list, and the feature mutations.
import { escapeLike } from '../../db/like.js';
import { DuplicateNameError, NotFoundError, ValidationError } from '../../errors/app-errors.js';
import { EnvironmentType, ProjectType } from '../../projects/graphql.js';
import { ExperimentRunningError } from '../../experiments/errors.js';
import { builder } from '../../schema/builder.js';
import { readableNode, readByTokens } from '../../schema/nodes.js';
import { payloadType } from '../../schema/payload.js';
import { VariantKeyError, WeightsError } from '../errors.js';
import { announce, decodeId, featureService, liveOptionsInOrder, readers } from './common.js';
import { optionFields, optionInput } from './option-input.js';

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

readableNode('Feature', { visibleTo: readByTokens, findMany: (prisma, args) => prisma.feature.findMany(args as never) });

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
const CreateFeaturePayload = payloadType('CreateFeaturePayload', 'feature', FeatureType);
const UpdateFeaturePayload = payloadType('UpdateFeaturePayload', 'feature', FeatureType);
const ArchiveFeaturePayload = payloadType('ArchiveFeaturePayload', 'feature', FeatureType);

builder.mutationFields((t) => ({
  createFeature: t.field({
    type: CreateFeaturePayload,
    authScopes: { admin: true },
    description: 'Creates a feature, its options, and its state in every environment of the project.',
    errors: { types: [ValidationError, NotFoundError, DuplicateNameError, VariantKeyError, WeightsError] },
    args: { input: t.arg({ type: CreateFeatureInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const written = await featureService(context).createFeature({
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
      const written = await featureService(context).updateFeature(decodeId(input.id), {
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
    errors: { types: [NotFoundError, ExperimentRunningError] },
    args: { input: t.arg({ type: ArchiveFeatureInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const written = await featureService(context).archiveFeature(decodeId(input.id), input.archived ?? true);
      await announce(context, written.environmentIds);
      return { feature: written.value };
    },
  }),
}));
