// The Identity node as admins see it (identifier, stored traits, matched segments, overrides),
// Environment.identity, and the identity override mutations.
import { NotFoundError, ValidationError } from '../../errors/app-errors.js';
import { isValidIdentifier } from '../../identities/identifier.js';
import { EnvironmentType } from '../../projects/graphql.js';
import { ExperimentRunningError } from '../../experiments/errors.js';
import { builder } from '../../schema/builder.js';
import { readableNode, readByTokens } from '../../schema/nodes.js';
import { payloadType } from '../../schema/payload.js';
import { announce, decodeId, readers, targetingService } from './common.js';

export const IdentityType = builder.prismaNode('Identity', {
  id: { field: 'id' },
  nullable: true,
  authScopes: readers,
  description: 'An identity of one environment, created on first sight.',
  fields: (t) => ({
    identifier: t.exposeString('identifier'),
    traits: t.field({ type: 'JSON', description: 'The traits stored for it (merged from every request).', resolve: (identity) => identity.traits }),
    environment: t.relation('environment'),
    lastSeenAt: t.expose('lastSeenAt', { type: 'DateTime' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    overrides: t.relation('overrides', {
      description: "The identity's own overrides, by feature.",
      query: { orderBy: { featureId: 'asc' } },
    }),
    segments: t.prismaField({
      type: ['Segment'],
      description: "The project's segments whose rules its stored traits match now (as `flags` evaluates them), in creation order.",
      select: { environmentId: true, identifier: true },
      resolve: async (query, identity, _args, context) => {
        const ids = await context.services.evaluation.matchedSegmentIds(identity.environmentId, identity.identifier);
        if (ids.length === 0) return [];
        return context.prisma.segment.findMany({ ...query, where: { id: { in: ids } }, orderBy: { id: 'asc' } });
      },
    }),
  }),
});

export const IdentityOverrideType = builder.prismaNode('IdentityOverride', {
  id: { field: 'id' },
  nullable: true,
  authScopes: readers,
  description: 'What a feature serves to one identity, above every segment.',
  fields: (t) => ({
    identity: t.relation('identity'),
    feature: t.relation('feature'),
    enabled: t.exposeBoolean('enabled'),
    value: t.field({
      type: 'JSON',
      nullable: true,
      description: "The value served; null when it is the feature state's value.",
      resolve: (override) => override.value,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

readableNode('Identity', { visibleTo: readByTokens, findMany: (prisma, args) => prisma.identity.findMany(args as never) });
readableNode('IdentityOverride', { visibleTo: readByTokens, findMany: (prisma, args) => prisma.identityOverride.findMany(args as never) });

builder.prismaObjectField(EnvironmentType, 'identity', (t) =>
  t.prismaField({
    type: 'Identity',
    nullable: true,
    authScopes: readers,
    description: 'The identity with this identifier in this environment; null when it was never seen.',
    args: { identifier: t.arg.string({ required: true }) },
    resolve: (query, environment, args, context) =>
      isValidIdentifier(args.identifier)
        ? context.prisma.identity.findUnique({
            ...query,
            where: { environmentId_identifier: { environmentId: environment.id, identifier: args.identifier } },
          })
        : null,
  }),
);

const SetIdentityOverrideInput = builder.inputType('SetIdentityOverrideInput', {
  description: "Creates the identity's override of the feature (and the identity, on first sight), or changes it: fields left out stay as they are.",
  fields: (t) => ({
    environmentId: t.globalID({ required: true, for: [EnvironmentType] }),
    identifier: t.string({ required: true }),
    feature: t.string({ required: true, description: "The feature's name." }),
    enabled: t.boolean({ description: 'Default false for a new override.' }),
    value: t.field({ type: 'JSON', description: "The value served to the identity; null serves the feature state's value." }),
  }),
});

const RemoveIdentityOverrideInput = builder.inputType('RemoveIdentityOverrideInput', {
  fields: (t) => ({ id: t.globalID({ required: true, for: [IdentityOverrideType] }) }),
});

const SetIdentityOverridePayload = payloadType('SetIdentityOverridePayload', 'identityOverride', IdentityOverrideType);
const RemoveIdentityOverridePayload = payloadType('RemoveIdentityOverridePayload', 'identityOverride', IdentityOverrideType);

builder.mutationFields((t) => ({
  setIdentityOverride: t.field({
    type: SetIdentityOverridePayload,
    authScopes: { admin: true },
    description: 'Creates or changes what a feature serves to one identity.',
    errors: { types: [ValidationError, NotFoundError, ExperimentRunningError] },
    args: { input: t.arg({ type: SetIdentityOverrideInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const written = await targetingService(context).setIdentityOverride({
        environmentId: decodeId(input.environmentId),
        identifier: input.identifier,
        feature: input.feature,
        enabled: input.enabled,
        value: input.value,
      });
      await announce(context, written.environmentIds);
      return { identityOverride: written.value };
    },
  }),
  removeIdentityOverride: t.field({
    type: RemoveIdentityOverridePayload,
    authScopes: { admin: true },
    description: "Removes an identity's override of a feature.",
    errors: { types: [NotFoundError, ExperimentRunningError] },
    args: { input: t.arg({ type: RemoveIdentityOverrideInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const written = await targetingService(context).removeIdentityOverride(decodeId(input.id));
      await announce(context, written.environmentIds);
      return { identityOverride: written.value };
    },
  }),
}));
