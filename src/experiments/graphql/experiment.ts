// The Experiment node (SPEC.md section 9), its iterations, Environment.experiments,
// Feature.experiments, and createExperiment, startExperiment, stopExperiment.
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Context } from '../../context.js';
import { DuplicateNameError, NotFoundError, ValidationError } from '../../errors/app-errors.js';
import { FeatureType } from '../../features/graphql/index.js';
import { ExperimentStatus } from '../../generated/prisma/enums.js';
import { EnvironmentType } from '../../projects/graphql.js';
import { announce } from '../../schema/announce.js';
import { builder, numericId } from '../../schema/builder.js';
import { readableNode, readByTokens } from '../../schema/nodes.js';
import { payloadType } from '../../schema/payload.js';
import { ExperimentExistsError, ExperimentNotReadyError, ExperimentStatusError } from '../errors.js';
import type { AllocationEntry } from '../normalise.js';
import type { ExperimentResults, ExperimentService, VariantResult } from '../service.js';

const readers = { $any: { admin: true, analytics: true } } as const;

function experiments(context: Context): ExperimentService {
  return context.services.experiments;
}

export const ExperimentStatusEnum = builder.enumType(ExperimentStatus, {
  name: 'ExperimentStatus',
  description: 'DRAFT (created), RUNNING (an iteration is open, its allocation frozen), STOPPED.',
});

const AllocationEntryType = builder.objectRef<AllocationEntry>('ExperimentAllocation').implement({
  description: "A variant key's weight in an iteration's frozen allocation (control included).",
  fields: (t) => ({
    key: t.exposeString('key'),
    weight: t.exposeFloat('weight', { description: 'Percentage 0-100.' }),
  }),
});

export const ExperimentIterationType = builder.prismaObject('ExperimentIteration', {
  description: 'One run of an experiment, with the allocation it froze.',
  fields: (t) => ({
    number: t.exposeInt('number', { description: '1, 2, ... in start order.' }),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    stoppedAt: t.expose('stoppedAt', { type: 'DateTime', nullable: true, description: 'null while it runs.' }),
    allocation: t.field({
      type: [AllocationEntryType],
      description: 'Each variant key with its weight while the iteration runs, control last.',
      resolve: (iteration) => iteration.allocation as unknown as AllocationEntry[],
    }),
  }),
});

const SrmStatusEnum = builder.enumType('SrmStatus', {
  description: 'INSUFFICIENT_DATA below 100 identities, else OK, WARNING (p < 0.01) or FAILED (p < 0.001).',
  values: ['INSUFFICIENT_DATA', 'OK', 'WARNING', 'FAILED'] as const,
});

const SrmType = builder.objectRef<ExperimentResults['srm']>('ExperimentSrm').implement({
  description: "Sample ratio mismatch: chi-square of identities by first variant against the iteration's allocation.",
  fields: (t) => ({
    pValue: t.float({ nullable: true, resolve: (srm) => srm.pValue }),
    status: t.field({ type: SrmStatusEnum, resolve: (srm) => srm.status }),
  }),
});

const VariantResultType = builder.objectRef<VariantResult>('ExperimentVariantResult').implement({
  fields: (t) => ({
    key: t.exposeString('key'),
    exposures: t.exposeInt('exposures'),
    identities: t.exposeInt('identities', { description: 'Identities whose first exposure in the iteration was this variant.' }),
    conflictedIdentities: t.exposeInt('conflictedIdentities', { description: 'Of those, the ones also exposed to another variant.' }),
    observedShare: t.exposeFloat('observedShare'),
    expectedShare: t.exposeFloat('expectedShare', { description: "From the iteration's frozen allocation." }),
  }),
});

const ExperimentResultsType = builder.objectRef<ExperimentResults>('ExperimentResults').implement({
  description: "One iteration's exposures, each attributed against the allocation that produced it.",
  fields: (t) => ({
    iteration: t.exposeInt('iteration'),
    exposures: t.exposeInt('exposures'),
    identities: t.exposeInt('identities'),
    conflictedIdentities: t.exposeInt('conflictedIdentities'),
    variants: t.field({ type: [VariantResultType], description: 'The allocation order, control included.', resolve: (r) => r.variants }),
    srm: t.field({ type: SrmType, resolve: (r) => r.srm }),
  }),
});

export const ExperimentType = builder.prismaNode('Experiment', {
  id: { field: 'id' },
  nullable: true,
  authScopes: readers,
  description: 'One multivariate feature tested in one environment, in iterations whose allocations are frozen.',
  fields: (t) => ({
    name: t.exposeString('name'),
    hypothesis: t.exposeString('hypothesis', { nullable: true }),
    status: t.expose('status', { type: ExperimentStatusEnum }),
    winnerKey: t.exposeString('winnerKey', { nullable: true, description: 'The winner named when it was last stopped.' }),
    stoppedAt: t.expose('stoppedAt', { type: 'DateTime', nullable: true, description: 'When it was last stopped.' }),
    stoppedBy: t.id({
      nullable: true,
      description: 'The API token that stopped it last.',
      resolve: (experiment) => (experiment.stoppedByTokenId === null ? null : encodeGlobalID('ApiToken', experiment.stoppedByTokenId)),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    environment: t.relation('environment'),
    feature: t.relation('feature'),
    results: t.field({
      type: ExperimentResultsType,
      nullable: true,
      description: 'The summary of one iteration (default: the latest); null when there is no such iteration.',
      args: { iteration: t.arg.int() },
      resolve: (experiment, args, context) => experiments(context).results(experiment.id, args.iteration ?? null),
    }),
    iterations: t.relation('iterations', { description: 'Every iteration, first first.', query: { orderBy: { number: 'asc' } } }),
    currentIteration: t.prismaField({
      type: 'ExperimentIteration',
      nullable: true,
      description: 'The latest iteration (the running one while RUNNING); null before the first start.',
      resolve: (query, experiment, _args, context) =>
        context.prisma.experimentIteration.findFirst({ ...query, where: { experimentId: experiment.id }, orderBy: { number: 'desc' } }),
    }),
  }),
});

readableNode('Experiment', { visibleTo: readByTokens, findMany: (prisma, args) => prisma.experiment.findMany(args as never) });

builder.prismaObjectField(EnvironmentType, 'experiments', (t) =>
  t.relation('experiments', { authScopes: readers, description: "The environment's experiments, oldest first.", query: { orderBy: { id: 'asc' } } }),
);

builder.prismaObjectFields('Exposure', (t) => ({
  experiment: t.relation('experiment', { nullable: true, description: 'The experiment running on the feature here at exposedAt.' }),
  iteration: t.exposeInt('iteration', { nullable: true, description: 'Its iteration then.' }),
}));

builder.prismaObjectField(FeatureType, 'experiments', (t) =>
  t.relation('experiments', { authScopes: readers, description: "The feature's experiments in every environment, oldest first.", query: { orderBy: { id: 'asc' } } }),
);

const CreateExperimentInput = builder.inputType('CreateExperimentInput', {
  fields: (t) => ({
    environmentId: t.globalID({ required: true, for: [EnvironmentType] }),
    feature: t.string({ required: true, description: "The feature's name: multivariate, every live option keyed." }),
    name: t.string({ required: true, description: '1-100 printable characters, unique in the environment.' }),
    hypothesis: t.string({ description: 'At most 2000 characters.' }),
  }),
});

const StartExperimentInput = builder.inputType('StartExperimentInput', {
  fields: (t) => ({ id: t.globalID({ required: true, for: [ExperimentType] }) }),
});

const StopExperimentInput = builder.inputType('StopExperimentInput', {
  fields: (t) => ({
    id: t.globalID({ required: true, for: [ExperimentType] }),
    winnerKey: t.string({ description: "A variant key of the running iteration's allocation (control included)." }),
    ship: t.boolean({
      defaultValue: false,
      description: "Serve the winner to everybody in the environment: the state's value becomes the winner's, every weight 0.",
    }),
  }),
});

const CreateExperimentPayload = payloadType('CreateExperimentPayload', 'experiment', ExperimentType);
const StartExperimentPayload = payloadType('StartExperimentPayload', 'experiment', ExperimentType);
const StopExperimentPayload = payloadType('StopExperimentPayload', 'experiment', ExperimentType);

builder.mutationFields((t) => ({
  createExperiment: t.field({
    type: CreateExperimentPayload,
    authScopes: { admin: true },
    description: 'Creates a DRAFT experiment of a multivariate feature in one environment.',
    errors: { types: [ValidationError, NotFoundError, DuplicateNameError, ExperimentNotReadyError, ExperimentExistsError] },
    args: { input: t.arg({ type: CreateExperimentInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const written = await experiments(context).createExperiment({
        environmentId: numericId(input.environmentId.id),
        feature: input.feature,
        name: input.name,
        hypothesis: input.hypothesis,
      });
      return { experiment: written.value };
    },
  }),
  startExperiment: t.field({
    type: StartExperimentPayload,
    authScopes: { admin: true },
    description: "DRAFT or STOPPED to RUNNING: opens the next iteration with the feature's current allocation in the environment, frozen.",
    errors: { types: [NotFoundError, ExperimentStatusError, ExperimentNotReadyError, ExperimentExistsError] },
    args: { input: t.arg({ type: StartExperimentInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const written = await experiments(context).startExperiment(numericId(input.id.id));
      await announce(context, written.environmentIds);
      return { experiment: written.value };
    },
  }),
  stopExperiment: t.field({
    type: StopExperimentPayload,
    authScopes: { admin: true },
    description: 'RUNNING to STOPPED: closes the iteration; with ship: true the winner is served to everybody in the environment.',
    errors: { types: [ValidationError, NotFoundError, ExperimentStatusError] },
    args: { input: t.arg({ type: StopExperimentInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const written = await experiments(context).stopExperiment({
        id: numericId(input.id.id),
        winnerKey: input.winnerKey,
        ship: input.ship,
        stoppedByTokenId: context.caller.kind === 'token' ? context.caller.tokenId : null,
      });
      await announce(context, written.environmentIds);
      return { experiment: written.value };
    },
  }),
}));
