// `node(id)` and `nodes(ids)`: the caller's scopes are checked before any id is read, each
// node type says which of its rows a caller may see (as a Prisma filter applied in the query
// itself), and the rows of each type are read in one query. A row the caller may not see
// answers null, exactly like a row that does not exist: not even its type shows.
import { brandWithType } from '@pothos/core';
import { queryFromInfo } from '@pothos/plugin-prisma';
import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import type { Caller } from '../auth/credentials.js';
import type { Context } from '../context.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { builder } from './builder.js';
import { decodeGlobalId } from './global-id.js';

export const NODES_MAX_IDS = 100;

interface NodeSource {
  /** A filter of the rows this caller may read, or null for none. */
  visibleTo(caller: Caller): object | null;
  findMany(prisma: PrismaClient, args: { where: object } & Record<string, unknown>): Promise<{ id: number | bigint }[]>;
  bigint: boolean;
}

const sources = new Map<string, NodeSource>();

/** Makes a node type readable through `node`/`nodes`; a type not registered answers null. */
export function readableNode(typename: string, source: Omit<NodeSource, 'bigint'> & { bigint?: boolean }): void {
  sources.set(typename, { bigint: false, ...source });
}

export function hasScope(caller: Caller, scope: 'ADMIN' | 'ANALYTICS'): boolean {
  return caller.kind === 'token' && (caller.scopes.includes('ADMIN') || caller.scopes.includes(scope));
}

/** Rows every ANALYTICS or ADMIN token reads, and no one else. */
export function readByTokens(caller: Caller): object | null {
  return hasScope(caller, 'ANALYTICS') ? {} : null;
}

async function loadNodes(context: Context, info: GraphQLResolveInfo, rawIds: readonly string[]): Promise<unknown[]> {
  const byType = new Map<string, Set<string>>();
  const decoded = rawIds.map((raw) => {
    const id = decodeGlobalId(raw);
    if (!id || !sources.has(id.typename)) return null;
    let ids = byType.get(id.typename);
    if (!ids) byType.set(id.typename, (ids = new Set()));
    ids.add(id.id);
    return id;
  });
  const found = new Map<string, unknown>();
  await Promise.all(
    [...byType].map(async ([typename, ids]) => {
      const source = sources.get(typename)!;
      const visible = source.visibleTo(context.caller);
      if (visible === null) return;
      const query = (await queryFromInfo({ context, info, typeName: typename, awaitSelections: true })) as Record<string, unknown>;
      const where = { AND: [{ id: { in: [...ids].map((id) => (source.bigint ? BigInt(id) : Number(id))) } }, visible] };
      const select = query.select ? { select: { ...(query.select as object), id: true } } : {};
      const rows = await source.findMany(context.prisma, { ...query, ...select, where });
      for (const row of rows) {
        brandWithType(row, typename as never);
        found.set(`${typename}:${row.id}`, row);
      }
    }),
  );
  return decoded.map((id) => (id ? (found.get(`${id.typename}:${id.id}`) ?? null) : null));
}

const tokens = { $any: { admin: true, analytics: true } } as const;

builder.queryFields((t) => ({
  node: t.field({
    type: builder.nodeInterfaceRef(),
    nullable: true,
    authScopes: tokens,
    description: 'The node with this id; null when it does not exist or the caller may not read it.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_parent, args, context, info) => (await loadNodes(context, info, [String(args.id)]))[0] as never,
  }),
  nodes: t.field({
    type: [builder.nodeInterfaceRef()],
    nullable: { list: false, items: true },
    authScopes: tokens,
    description: `The nodes with these ids (at most ${NODES_MAX_IDS}), in order; null for each that does not exist or the caller may not read.`,
    args: { ids: t.arg.idList({ required: true }) },
    resolve: async (_parent, args, context, info) => {
      if (args.ids.length > NODES_MAX_IDS) {
        throw new GraphQLError(`\`nodes\` takes at most ${NODES_MAX_IDS} ids (got ${args.ids.length}).`, {
          extensions: { code: 'INVALID_INPUT' },
        });
      }
      return (await loadNodes(context, info, args.ids.map(String))) as never;
    },
  }),
}));
