// The AuditEntry node, the `auditLog` connection (ADMIN only, newest first), and the audit
// scope every mutation runs in (SPEC.md section 11).
import { defaultFieldResolver, type GraphQLSchema } from 'graphql';
import type { Caller } from '../auth/credentials.js';
import type { Context } from '../context.js';
import { builder, numericId } from '../schema/builder.js';
import { encodeGlobalId } from '../schema/global-id.js';
import { hasScope, readableNode } from '../schema/nodes.js';
import { type AuditActor, runAudited } from './scope.js';

const admins = { admin: true } as const;

const AuditActorType = builder.objectRef<AuditActor>('AuditActor').implement({
  description: 'Who made a change: the API token (its id and its name at the time).',
  fields: (t) => ({
    tokenId: t.id({
      nullable: true,
      description: "The ApiToken's id; null for a change made outside the API (`npm run admin:token`).",
      resolve: (actor) => (actor.tokenId === null ? null : encodeGlobalId('ApiToken', actor.tokenId)),
    }),
    name: t.exposeString('name', { description: "The token's name, or what made the change." }),
  }),
});

export const AuditEntryType = builder.prismaNode('AuditEntry', {
  id: { field: 'id' },
  nullable: true,
  authScopes: admins,
  description: 'One admin mutation: who, which mutation, which row, and that row before and after.',
  fields: (t) => ({
    at: t.expose('at', { type: 'DateTime', description: 'When the transaction of the change started (the database clock).' }),
    actor: t.field({ type: AuditActorType, resolve: (entry) => ({ tokenId: entry.actorTokenId, name: entry.actorName }) }),
    action: t.exposeString('action', { description: "The mutation's name, e.g. `updateFeatureState`." }),
    targetType: t.exposeString('targetType', { description: 'The type of the changed row, e.g. `FeatureState`.' }),
    targetId: t.id({
      description: "The changed row's global id (it may no longer exist).",
      resolve: (entry) => encodeGlobalId(entry.targetType, entry.targetId),
    }),
    before: t.field({ type: 'JSON', nullable: true, description: 'The row before the change; null for a create.', resolve: (entry) => entry.before }),
    after: t.field({ type: 'JSON', nullable: true, description: 'The row after the change; null for a delete.', resolve: (entry) => entry.after }),
  }),
});

readableNode('AuditEntry', {
  visibleTo: (caller) => (hasScope(caller, 'ADMIN') ? {} : null),
  findMany: (prisma, args) => prisma.auditEntry.findMany(args as never),
});

builder.queryFields((t) => ({
  auditLog: t.prismaConnection(
    {
      type: 'AuditEntry',
      cursor: 'id',
      authScopes: admins,
      description: 'Audit entries, newest first: of one row (`targetId`, any global id, deleted rows included) or of everything.',
      defaultSize: 50,
      maxSize: 500,
      args: { targetId: t.arg.globalID({ description: 'Only the changes of this row.' }) },
      resolve: (query, _parent, args, context) =>
        context.prisma.auditEntry.findMany({
          ...query,
          where: args.targetId ? { targetType: args.targetId.typename, targetId: numericId(args.targetId.id) } : {},
          orderBy: { id: 'desc' },
        }),
    },
    { name: 'AuditEntryConnection' },
    { name: 'AuditEntryEdge' },
  ),
}));

function actorOf(caller: Caller): AuditActor | null {
  return caller.kind === 'token' ? { tokenId: caller.tokenId, name: caller.tokenName } : null;
}

/**
 * Runs every mutation of the schema in an audit scope naming it and its caller, so the admin
 * writes it makes record who did what (src/audit/scope.ts). Applied to the built schema: a
 * mutation added later is covered without a line of its own.
 */
export function auditMutations(schema: GraphQLSchema): GraphQLSchema {
  for (const field of Object.values(schema.getMutationType()?.getFields() ?? {})) {
    const resolve = field.resolve ?? defaultFieldResolver;
    field.resolve = (parent, args, context: Context, info) => {
      // A client key's mutations (exposure reports, the hot path) change nothing audited: no scope.
      if (context.caller.kind === 'client') return resolve(parent, args, context, info);
      return runAudited({ action: field.name, actor: actorOf(context.caller) }, () => resolve(parent, args, context, info));
    };
  }
  return schema;
}
