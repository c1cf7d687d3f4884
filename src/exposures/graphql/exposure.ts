// The GraphQL `Exposure` node and the `ExposureSource` enum (SPEC.md section 5): written by the
// exposure-recording mutations, read by the analytics queries (src/analytics).
import { ExposureSource } from '../../generated/prisma/enums.js';
import { builder } from '../../schema/builder.js';
import { readableNode, readByTokens } from '../../schema/nodes.js';

export const ExposureSourceEnum = builder.enumType(ExposureSource, {
  name: 'ExposureSource',
  description: 'Who reported the exposure: a client (`recordExposure(s)`) or the server itself (`flags(recordExposures: true)`).',
});

/** Exposure ids are BigInt; anything that is not a positive decimal integer finds nothing. */
export function parseExposureId(value: string): bigint {
  return /^[1-9][0-9]{0,18}$/.test(value) ? BigInt(value) : -1n;
}

export const ExposureType = builder.prismaNode('Exposure', {
  id: { field: 'id' },
  findUnique: (id) => ({ id: parseExposureId(id) }),
  description: 'One report that an identity was served a variant of a multivariate feature.',
  // Analytics and admin tokens read every exposure; a client (environment key) reads only what
  // its own `recordExposure(s)` returns (node/nodes give clients nothing).
  authScopes: (exposure, context) =>
    context.caller.kind === 'client'
      ? exposure.environmentId === context.caller.environmentId
      : { $any: { admin: true, analytics: true } },
  fields: (t) => ({
    databaseId: t.string({
      description:
        'The numeric exposure id (a decimal string): the `id` column of exports and of the `Exposure` table, ' +
        'and what `after` of `GET /exports/exposures` takes. Ids only grow.',
      resolve: (exposure) => exposure.id.toString(),
    }),
    feature: t.string({
      description: 'The name of the feature.',
      select: { feature: { select: { name: true } } },
      resolve: (exposure) => exposure.feature.name,
    }),
    variantKey: t.exposeString('variantKey', {
      description: 'The variant key that was served: an option key of the feature, or `control`.',
    }),
    identifier: t.string({
      description: 'The identity the variant was served to.',
      select: { identity: { select: { identifier: true } } },
      resolve: (exposure) => exposure.identity.identifier,
    }),
    exposedAt: t.expose('exposedAt', { type: 'DateTime', description: 'When the identity saw the variant (as reported).' }),
    receivedAt: t.expose('receivedAt', { type: 'DateTime', description: 'When the server recorded the report.' }),
    source: t.expose('source', { type: ExposureSourceEnum }),
    matchesAssignment: t.exposeBoolean('matchesAssignment', {
      description: 'Whether the reported key equals what evaluation assigned this identity when it was recorded.',
    }),
    eventId: t.exposeString('eventId', { nullable: true, description: 'The idempotency key the reporter sent, if any.' }),
  }),
});

readableNode('Exposure', {
  bigint: true,
  visibleTo: readByTokens,
  findMany: (prisma, args) => prisma.exposure.findMany(args as never),
});
