// The one Pothos schema builder every domain adds its types to (src/schema/index.ts
// imports the domains and builds the schema).
import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';
import { JSONResolver } from 'graphql-scalars';
import type { Context } from '../context.js';
import type PrismaTypes from '../generated/pothos-types.js';
import { getDatamodel } from '../generated/pothos-types.js';
import { DateTimeScalar } from './date-time.js';

export interface AuthScopes {
  /** A bearer token with the ADMIN scope. */
  admin: boolean;
  /** A bearer token with ANALYTICS or ADMIN. */
  analytics: boolean;
  /** A client: `X-Environment-Key` of an environment. */
  client: boolean;
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: AuthScopes;
  Scalars: {
    JSON: { Input: unknown; Output: unknown };
    DateTime: { Input: Date; Output: Date };
    ID: { Input: string; Output: string | number | bigint };
  };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}>({
  defaultFieldNullability: false,
  plugins: [ScopeAuthPlugin, ErrorsPlugin, PrismaPlugin, RelayPlugin, ComplexityPlugin],
  prisma: {
    client: (context) => context.prisma,
    dmmf: getDatamodel(),
    filterConnectionTotalCount: true,
    onUnusedQuery: null,
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
  },
  scopeAuth: {
    authScopes: (context) => ({
      admin: context.caller.kind === 'token' && context.caller.scopes.includes('ADMIN'),
      analytics:
        context.caller.kind === 'token' &&
        (context.caller.scopes.includes('ADMIN') || context.caller.scopes.includes('ANALYTICS')),
      client: context.caller.kind === 'client',
    }),
    unauthorizedError: (_parent, context) =>
      context.caller.kind === 'anonymous'
        ? new GraphQLError(
            context.caller.rejected
              ? 'The credentials are not valid (unknown, malformed or revoked).'
              : 'Authentication required: send `Authorization: Bearer <token>` or `X-Environment-Key: <key>`.',
            { extensions: { code: 'UNAUTHENTICATED' } },
          )
        : new GraphQLError('These credentials do not allow this operation.', { extensions: { code: 'FORBIDDEN' } }),
  },
  errors: {
    directResult: true,
    defaultUnionOptions: {
      name: ({ fieldName }) => `${pascal(fieldName)}Result`,
    },
  },
  complexity: {
    complexityError: (kind, result) =>
      new GraphQLError(
        String(kind) === 'Depth'
          ? `Query is too deep (depth ${result.depth}, at most ${result.maxDepth}).`
          : String(kind) === 'Breadth'
            ? `Query selects too many fields (${result.breadth}, at most ${result.maxBreadth}).`
            : `Query is too costly (complexity ${result.complexity}, at most ${result.maxComplexity}).`,
        { extensions: { code: 'QUERY_TOO_COMPLEX' } },
      ),
    defaultComplexity: 1,
    defaultListMultiplier: 10,
    limit: (context) => ({
      depth: context.services.config.maxQueryDepth,
      complexity: context.services.config.maxQueryComplexity,
      breadth: 500,
    }),
  },
});

builder.addScalarType('JSON', JSONResolver);
builder.addScalarType('DateTime', DateTimeScalar);

builder.queryType({});
builder.mutationType({});

/** Decodes the numeric database id of a global id decoded by Pothos' relay plugin. */
export function numericId(id: string): number {
  const value = Number(id);
  return Number.isSafeInteger(value) && value > 0 ? value : -1;
}
