// The Segment node, the project's segment list, and the segment mutations.
import { ExperimentRunningError } from '../../experiments/errors.js';
import { DuplicateNameError, NotFoundError, ValidationError } from '../../errors/app-errors.js';
import { ProjectType } from '../../projects/graphql.js';
import { builder } from '../../schema/builder.js';
import { readableNode, readByTokens } from '../../schema/nodes.js';
import { payloadType } from '../../schema/payload.js';
import { SegmentInUseError, SegmentRulesError } from '../errors.js';
import type { DeletedSegment } from '../service.js';
import { announce, decodeId, readers, targetingService } from './common.js';

export const SegmentType = builder.prismaNode('Segment', {
  id: { field: 'id' },
  nullable: true,
  authScopes: readers,
  description: 'A named set of identities of a project, by Flagsmith rule trees over their traits.',
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    rules: t.field({
      type: 'JSON',
      description: 'A list of rule trees `{ type: ALL|ANY|NONE, conditions: [{ property, operator, value }], rules: [...] }`.',
      resolve: (segment) => segment.rules,
    }),
    project: t.relation('project'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

readableNode('Segment', { visibleTo: readByTokens, findMany: (prisma, args) => prisma.segment.findMany(args as never) });

builder.prismaObjectField('Project', 'segments', (t) =>
  t.relatedConnection(
    'segments',
    {
      cursor: 'id',
      authScopes: readers,
      description: "The project's segments in creation order.",
      defaultSize: 50,
      maxSize: 500,
      totalCount: true,
      query: () => ({ orderBy: { id: 'asc' } }),
    },
    { name: 'SegmentConnection' },
    { name: 'SegmentEdge' },
  ),
);

const CreateSegmentInput = builder.inputType('CreateSegmentInput', {
  fields: (t) => ({
    projectId: t.globalID({ required: true, for: [ProjectType] }),
    name: t.string({ required: true, description: '1-150 characters of [A-Za-z0-9_.-] (as feature names), unique in the project.' }),
    description: t.string(),
    rules: t.field({ type: 'JSON', required: true, description: 'A list of Flagsmith rule trees (nesting at most 10, at most 100 conditions).' }),
  }),
});

const UpdateSegmentInput = builder.inputType('UpdateSegmentInput', {
  description: 'Fields left out stay as they are.',
  fields: (t) => ({
    id: t.globalID({ required: true, for: [SegmentType] }),
    name: t.string(),
    description: t.string({ description: 'null or blank clears it.' }),
    rules: t.field({ type: 'JSON' }),
  }),
});

const DeleteSegmentInput = builder.inputType('DeleteSegmentInput', {
  fields: (t) => ({
    id: t.globalID({ required: true, for: [SegmentType] }),
    force: t.boolean({
      defaultValue: false,
      description: 'Also remove the overrides that use the segment (else SEGMENT_IN_USE while there are any).',
    }),
  }),
});

const CreateSegmentPayload = payloadType('CreateSegmentPayload', 'segment', SegmentType);
const UpdateSegmentPayload = payloadType('UpdateSegmentPayload', 'segment', SegmentType);
const DeleteSegmentPayload = builder.objectRef<DeletedSegment>('DeleteSegmentPayload').implement({
  fields: (t) => ({
    segment: t.field({ type: SegmentType, description: 'The deleted segment as it was.', resolve: (payload) => payload.segment }),
    removedOverrides: t.exposeInt('removedOverrides', { description: 'Segment overrides removed with it.' }),
  }),
});

builder.mutationFields((t) => ({
  createSegment: t.field({
    type: CreateSegmentPayload,
    authScopes: { admin: true },
    description: 'Creates a segment of a project.',
    errors: { types: [ValidationError, NotFoundError, DuplicateNameError, SegmentRulesError] },
    args: { input: t.arg({ type: CreateSegmentInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const written = await targetingService(context).createSegment(decodeId(input.projectId), {
        name: input.name,
        description: input.description,
        rules: input.rules,
      });
      await announce(context, written.environmentIds);
      return { segment: written.value };
    },
  }),
  updateSegment: t.field({
    type: UpdateSegmentPayload,
    authScopes: { admin: true },
    description: "Changes a segment's name, description or rules.",
    errors: { types: [ValidationError, NotFoundError, DuplicateNameError, SegmentRulesError, ExperimentRunningError] },
    args: { input: t.arg({ type: UpdateSegmentInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const written = await targetingService(context).updateSegment(decodeId(input.id), {
        name: input.name,
        description: input.description,
        rules: input.rules,
      });
      await announce(context, written.environmentIds);
      return { segment: written.value };
    },
  }),
  deleteSegment: t.field({
    type: DeleteSegmentPayload,
    authScopes: { admin: true },
    description: 'Deletes a segment; one that overrides features only with `force: true`, which removes those overrides too.',
    errors: { types: [NotFoundError, SegmentInUseError, ExperimentRunningError] },
    args: { input: t.arg({ type: DeleteSegmentInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const written = await targetingService(context).deleteSegment(decodeId(input.id), input.force === true);
      await announce(context, written.environmentIds);
      return written.value;
    },
  }),
}));
