// GraphQL types and operations for projects and environments.
import { DuplicateNameError, NotFoundError, ValidationError } from '../errors/app-errors.js';
import { builder, numericId } from '../schema/builder.js';
import { readableNode, readByTokens } from '../schema/nodes.js';
import { payloadType } from '../schema/payload.js';

const adminOrAnalytics = { $any: { admin: true, analytics: true } } as const;

export const ProjectType = builder.prismaNode('Project', {
  id: { field: 'id' },
  // node(id) of a row that does not exist answers null rather than an error.
  nullable: true,
  authScopes: adminOrAnalytics,
  fields: (t) => ({
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    environments: t.relation('environments', { query: { orderBy: { id: 'asc' } } }),
  }),
});

export const EnvironmentType = builder.prismaNode('Environment', {
  id: { field: 'id' },
  // node(id) of a row that does not exist answers null rather than an error.
  nullable: true,
  authScopes: adminOrAnalytics,
  fields: (t) => ({
    name: t.exposeString('name'),
    key: t.exposeString('key', {
      // A client key writes exposures: only admins may read one.
      authScopes: { admin: true },
      description: 'The public client key for `X-Environment-Key` (ADMIN only).',
    }),
    project: t.relation('project'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

readableNode('Project', { visibleTo: readByTokens, findMany: (prisma, args) => prisma.project.findMany(args as never) });
readableNode('Environment', { visibleTo: readByTokens, findMany: (prisma, args) => prisma.environment.findMany(args as never) });

builder.queryFields((t) => ({
  projects: t.prismaConnection({
    type: 'Project',
    cursor: 'id',
    authScopes: adminOrAnalytics,
    defaultSize: 50,
    maxSize: 500,
    resolve: (query, _parent, _args, context) => context.prisma.project.findMany({ ...query, orderBy: { id: 'asc' } }),
  }, { name: 'ProjectConnection' }, { name: 'ProjectEdge' }),
  project: t.prismaField({
    type: 'Project',
    nullable: true,
    authScopes: adminOrAnalytics,
    args: { id: t.arg.globalID({ required: true, for: [ProjectType] }) },
    resolve: (query, _parent, args, context) =>
      context.prisma.project.findUnique({ ...query, where: { id: numericId(args.id.id) } }),
  }),
}));

const CreateProjectInput = builder.inputType('CreateProjectInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    environments: t.stringList({
      required: false,
      description: 'Environment names (at most 100); default `development` and `production`.',
    }),
  }),
});

const CreateProjectPayload = payloadType('CreateProjectPayload', 'project', ProjectType);

const CreateEnvironmentInput = builder.inputType('CreateEnvironmentInput', {
  fields: (t) => ({
    projectId: t.globalID({ required: true, for: [ProjectType] }),
    name: t.string({ required: true }),
  }),
});

const CreateEnvironmentPayload = payloadType('CreateEnvironmentPayload', 'environment', EnvironmentType);

builder.mutationFields((t) => ({
  createProject: t.field({
    type: CreateProjectPayload,
    authScopes: { admin: true },
    errors: { types: [ValidationError, DuplicateNameError] },
    args: { input: t.arg({ type: CreateProjectInput, required: true }) },
    resolve: async (_parent, { input }, context) => ({ project: await context.services.projects.createProject(input) }),
  }),
  createEnvironment: t.field({
    type: CreateEnvironmentPayload,
    authScopes: { admin: true },
    errors: { types: [ValidationError, NotFoundError, DuplicateNameError] },
    args: { input: t.arg({ type: CreateEnvironmentInput, required: true }) },
    resolve: async (_parent, { input }, context) => ({
      environment: await context.services.projects.createEnvironment({ projectId: numericId(input.projectId.id), name: input.name }),
    }),
  }),
}));
