// GraphQL types and operations for API tokens.
import { NotFoundError, ValidationError } from '../errors/app-errors.js';
import { ApiScope } from '../generated/prisma/enums.js';
import type { ApiToken } from '../generated/prisma/client.js';
import { builder, numericId } from '../schema/builder.js';
import { hasScope, readableNode } from '../schema/nodes.js';
import { payloadType } from '../schema/payload.js';
import { createApiToken, revokeApiToken } from './service.js';

export const ApiScopeEnum = builder.enumType(ApiScope, { name: 'ApiScope' });

export const ApiTokenType = builder.prismaNode('ApiToken', {
  id: { field: 'id' },
  // node(id) of a row that does not exist answers null rather than an error.
  nullable: true,
  authScopes: { admin: true },
  fields: (t) => ({
    name: t.exposeString('name'),
    scopes: t.field({ type: [ApiScopeEnum], resolve: (token) => token.scopes }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

readableNode('ApiToken', {
  visibleTo: (caller) => (hasScope(caller, 'ADMIN') ? {} : null),
  findMany: (prisma, args) => prisma.apiToken.findMany(args as never),
});

builder.queryFields((t) => ({
  apiTokens: t.prismaField({
    type: ['ApiToken'],
    authScopes: { admin: true },
    description: 'Every API token, newest first (secrets are never shown again).',
    resolve: (query, _parent, _args, context) => context.prisma.apiToken.findMany({ ...query, orderBy: { id: 'desc' } }),
  }),
}));

const CreateApiTokenInput = builder.inputType('CreateApiTokenInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    scopes: t.field({ type: [ApiScopeEnum], required: true, description: 'At most 10 (repeats count once).' }),
  }),
});

const CreateApiTokenPayload = builder.objectRef<{ token: ApiToken; secret: string }>('CreateApiTokenPayload').implement({
  fields: (t) => ({
    token: t.field({ type: ApiTokenType, resolve: (payload) => payload.token }),
    secret: t.exposeString('secret', { description: 'Shown this once: only its SHA-256 hash is stored.' }),
  }),
});

const RevokeApiTokenInput = builder.inputType('RevokeApiTokenInput', {
  fields: (t) => ({ id: t.globalID({ required: true, for: [ApiTokenType] }) }),
});

const RevokeApiTokenPayload = payloadType('RevokeApiTokenPayload', 'token', ApiTokenType);

builder.mutationFields((t) => ({
  createApiToken: t.field({
    type: CreateApiTokenPayload,
    authScopes: { admin: true },
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: CreateApiTokenInput, required: true }) },
    resolve: (_parent, { input }, context) => createApiToken(context.prisma, input),
  }),
  revokeApiToken: t.field({
    type: RevokeApiTokenPayload,
    authScopes: { admin: true },
    errors: { types: [NotFoundError, ValidationError] },
    args: { input: t.arg({ type: RevokeApiTokenInput, required: true }) },
    resolve: async (_parent, { input }, context) => ({ token: await revokeApiToken(context.prisma, numericId(input.id.id)) }),
  }),
}));
