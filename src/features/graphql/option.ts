// The MultivariateOption node: its fields and the option mutations.
import { NotFoundError, ValidationError } from '../../errors/app-errors.js';
import { ExperimentRunningError } from '../../experiments/errors.js';
import { builder } from '../../schema/builder.js';
import { readableNode, readByTokens } from '../../schema/nodes.js';
import { payloadType } from '../../schema/payload.js';
import { VariantKeyError, WeightsError } from '../errors.js';
import type { DeletedOption } from '../service.js';
import { announce, decodeId, featureService, readers } from './common.js';
import { FeatureType } from './feature.js';
import { optionFields, optionInput } from './option-input.js';

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

readableNode('MultivariateOption', { visibleTo: readByTokens, findMany: (prisma, args) => prisma.multivariateOption.findMany(args as never) });

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

const CreateMultivariateOptionPayload = payloadType('CreateMultivariateOptionPayload', 'option', MultivariateOptionType);
const UpdateMultivariateOptionPayload = payloadType('UpdateMultivariateOptionPayload', 'option', MultivariateOptionType);
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

builder.mutationFields((t) => ({
  createMultivariateOption: t.field({
    type: CreateMultivariateOptionPayload,
    authScopes: { admin: true },
    errors: { types: [ValidationError, NotFoundError, VariantKeyError, WeightsError, ExperimentRunningError] },
    args: { input: t.arg({ type: CreateMultivariateOptionInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const featureId = decodeId(input.featureId);
      const written = await featureService(context).createMultivariateOption(featureId, optionInput(input));
      await announce(context, written.environmentIds);
      return { option: written.value };
    },
  }),
  updateMultivariateOption: t.field({
    type: UpdateMultivariateOptionPayload,
    authScopes: { admin: true },
    errors: { types: [ValidationError, NotFoundError, VariantKeyError, WeightsError, ExperimentRunningError] },
    args: { input: t.arg({ type: UpdateMultivariateOptionInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const optionId = decodeId(input.id);
      const written = await featureService(context).updateMultivariateOption(optionId, optionInput(input));
      await announce(context, written.environmentIds);
      return { option: written.value };
    },
  }),
  deleteMultivariateOption: t.field({
    type: DeleteMultivariateOptionPayload,
    authScopes: { admin: true },
    description: 'Deletes an option; archives it instead when exposures name it.',
    errors: { types: [NotFoundError, ExperimentRunningError] },
    args: { input: t.arg({ type: DeleteMultivariateOptionInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const written = await featureService(context).deleteMultivariateOption(decodeId(input.id));
      await announce(context, written.environmentIds);
      return written.value;
    },
  }),
}));
