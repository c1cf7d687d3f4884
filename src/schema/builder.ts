// The one Pothos schema builder every domain adds its types to (src/schema/index.ts
// imports the domains and builds the schema).
import SchemaBuilder from '@pothos/core';
import ComplexityPlugin, { type ComplexityErrorFn, ComplexityErrorKind, complexityFromQuery } from '@pothos/plugin-complexity';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import {
  type DocumentNode,
  getNamedType,
  GraphQLError,
  type GraphQLField,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
} from 'graphql';
import { JSONResolver } from 'graphql-scalars';
import { authFailure, type AuthScopes, authScopes } from '../auth/scopes.js';
import { MAX_QUERY_BREADTH } from '../config.js';
import type { Context } from '../context.js';
import type PrismaTypes from '../generated/pothos-types.js';
import { getDatamodel } from '../generated/pothos-types.js';
import { DateTimeScalar } from './date-time.js';
import { GlobalIdPlugin } from './global-id.js';

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** What a plain list is taken to hold (options, states, weights: small, bounded lists). */
const LIST_MULTIPLIER = 10;

/** Page sizes of the connections: `first`/`last` when given, else the default, at most the cap. */
const PAGE_SIZES: Record<string, { default: number; max: number }> = {
  ExposureConnection: { default: 100, max: 1000 },
};
const DEFAULT_PAGE_SIZE = { default: 50, max: 500 };

/**
 * A connection costs its children times the page asked for; its `edges` list then counts
 * once (the page size already says how many there are). Other lists count LIST_MULTIPLIER
 * times their children.
 */
function fieldCost(args: Record<string, unknown>, _context: Context, field: GraphQLField<unknown, Context>) {
  const type = getNamedType(field.type).name;
  if (costReadsArguments(field)) {
    const sizes = PAGE_SIZES[type] ?? DEFAULT_PAGE_SIZE;
    const asked = typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : sizes.default;
    return { field: 1, multiplier: Math.min(Math.max(asked, 0), sizes.max) };
  }
  if (type.endsWith('Edge')) return { field: 1, multiplier: 1 };
  const list = isListType(field.type) || (isNonNullType(field.type) && isListType(field.type.ofType));
  return list ? { field: 1, multiplier: LIST_MULTIPLIER } : 1;
}

/** Only a connection's page size makes a field's cost depend on its arguments (and so on variables). */
function costReadsArguments(field: GraphQLField<unknown, Context>): boolean {
  return getNamedType(field.type).name.endsWith('Connection') && field.args.some((arg) => arg.name === 'first');
}

/**
 * Gives every field whose cost does not read its arguments that cost as a number: Pothos
 * otherwise maps each selected field's arguments (variables included) to call fieldCost on
 * every request, though the answer is the same each time.
 */
export function staticComplexities(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) && !isInterfaceType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const extensions = field.extensions as { complexity?: unknown };
      if (extensions.complexity !== fieldCost || costReadsArguments(field as GraphQLField<unknown, Context>)) continue;
      field.extensions = { ...field.extensions, complexity: fieldCost({}, undefined as never, field as GraphQLField<unknown, Context>) };
    }
  }
  return schema;
}

function complexityError(kind: ComplexityErrorKind, result: Parameters<ComplexityErrorFn>[1]): GraphQLError {
  return new GraphQLError(
    String(kind) === 'Depth'
      ? `Query is too deep (depth ${result.depth}, at most ${result.maxDepth}).`
      : String(kind) === 'Breadth'
        ? `Query selects too many fields (${result.breadth}, at most ${result.maxBreadth}).`
        : `Query is too costly (complexity ${result.complexity}, at most ${result.maxComplexity}).`,
    { extensions: { code: 'QUERY_TOO_COMPLEX' } },
  );
}

function complexityLimit(context: Context) {
  return { depth: context.services.config.maxQueryDepth, complexity: context.services.config.maxQueryComplexity, breadth: MAX_QUERY_BREADTH };
}

/**
 * The limits Pothos checks when a root field resolves, checked for a whole operation: a
 * subscription's `subscribe` runs before any resolver, and must not open a stream its events
 * would then refuse.
 */
export function checkOperationComplexity(context: Context, info: GraphQLResolveInfo): void {
  const document: DocumentNode = { kind: Kind.DOCUMENT, definitions: [info.operation, ...Object.values(info.fragments)] };
  const { complexity, depth, breadth } = complexityFromQuery(document, { schema: info.schema, ctx: context, variables: info.variableValues });
  const max = complexityLimit(context);
  const kind =
    depth > max.depth ? ComplexityErrorKind.Depth : breadth > max.breadth ? ComplexityErrorKind.Breadth : complexity > max.complexity ? ComplexityErrorKind.Complexity : undefined;
  if (kind) {
    throw complexityError(kind, { complexity, depth, breadth, maxComplexity: max.complexity, maxDepth: max.depth, maxBreadth: max.breadth });
  }
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
  // GlobalIdPlugin sits inside ScopeAuth and Errors (scopes first; NotFoundError into result
  // unions) and before Relay (it checks ids before Relay decodes them).
  plugins: [ScopeAuthPlugin, ErrorsPlugin, GlobalIdPlugin, PrismaPlugin, RelayPlugin, ComplexityPlugin],
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
    // src/schema/nodes.ts defines them: scopes before reading, one query per type.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
  },
  scopeAuth: {
    // Scopes are checked before a subscription opens its stream, not only on its events.
    authorizeOnSubscribe: true,
    authScopes: (context) => authScopes(context.caller),
    unauthorizedError: (_parent, context) => {
      const failure = authFailure(context.caller);
      return new GraphQLError(failure.message, { extensions: { code: failure.code } });
    },
  },
  errors: {
    directResult: true,
    defaultUnionOptions: {
      name: ({ fieldName }) => `${pascal(fieldName)}Result`,
    },
  },
  complexity: { complexityError, defaultComplexity: 1, defaultListMultiplier: LIST_MULTIPLIER, fieldComplexity: fieldCost, limit: complexityLimit },
});

builder.addScalarType('JSON', JSONResolver);
builder.addScalarType('DateTime', DateTimeScalar);

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

/**
 * The numeric database id of a global id decoded by Pothos' relay plugin (src/schema/global-id.ts
 * has already refused every id that is not a canonical positive integer in range).
 */
export function numericId(id: string): number {
  return Number(id);
}
