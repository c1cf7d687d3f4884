// The commands of experiments (SPEC.md section 9). Each runs in one transaction that first
// locks the feature's row, as every write to the feature's options, states and overrides does:
// starting an experiment and changing its allocation cannot both win.
import { DuplicateNameError, NotFoundError, ValidationError } from '../errors/app-errors.js';
import { echo } from '../errors/echo.js';
import { uniqueViolationFields } from '../db/sql-state.js';
import { VARIANT_CONTROL } from '../engine/index.js';
import { sampleRatioMismatch } from '../analytics/summary.js';
import { audit } from '../audit/scope.js';
import { featureStateWithAllocations } from '../features/store.js';
import { controlWeight, effectiveWeights } from '../features/weights.js';
import { type Experiment, Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { ExperimentExistsError, ExperimentNotReadyError, ExperimentStatusError } from './errors.js';
import { type AllocationEntry, normaliseExperimentName, normaliseHypothesis } from './normalise.js';
import { type ExperimentTimeline, experimentTimeline, type TimelineBucket } from './timeline.js';

type Tx = Prisma.TransactionClient;
type Path = (string | number)[];

const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 30_000 };
const NAME_INDEX = 'Experiment_environmentId_name_key';

export interface Written<T> {
  value: T;
  /** Environments whose evaluation the write changed. */
  environmentIds: number[];
}

export interface CreateExperimentInput {
  environmentId: number;
  /** The feature's name. */
  feature: string;
  name: string;
  hypothesis?: string | null;
}

export interface StopExperimentInput {
  id: number;
  winnerKey?: string | null;
  ship?: boolean | null;
  /** The API token that asks (null when none). */
  stoppedByTokenId: number | null;
}

export interface ExperimentService {
  createExperiment(input: CreateExperimentInput): Promise<Written<Experiment>>;
  startExperiment(id: number): Promise<Written<Experiment>>;
  stopExperiment(input: StopExperimentInput): Promise<Written<Experiment>>;
  results(experimentId: number, iteration: number | null): Promise<ExperimentResults | null>;
  timeline(experimentId: number, iteration: number | null, bucket: TimelineBucket | null): Promise<ExperimentTimeline | null>;
}

export function createExperimentService(deps: { prisma: PrismaClient }): ExperimentService {
  const { prisma } = deps;
  return {
    createExperiment: (input) => createExperiment(prisma, input),
    startExperiment: (id) => startExperiment(prisma, id),
    stopExperiment: (input) => stopExperiment(prisma, input),
    results: (experimentId, iteration) => experimentResults(prisma, experimentId, iteration),
    timeline: (experimentId, iteration, bucket) => experimentTimeline(prisma, experimentId, iteration, bucket),
  };
}

function duplicateName(name: string): DuplicateNameError {
  return new DuplicateNameError('DUPLICATE_NAME', `This environment already has an experiment named "${echo(name)}".`, name, ['name']);
}

async function lockFeatureRow(tx: Tx, featureId: number, path: Path): Promise<{ archivedAt: Date | null }> {
  const rows = await tx.$queryRaw<{ archivedAt: Date | null }[]>`
    SELECT "archivedAt" FROM "Feature" WHERE "id" = ${featureId} FOR UPDATE`;
  if (rows.length === 0) throw new NotFoundError('No feature with this id.', null, path);
  return rows[0];
}

/** The live options in evaluation order; EXPERIMENT_NOT_READY unless there are some and every one has a key. */
async function readyOptions(tx: Tx, featureId: number, archived: boolean) {
  const options = await tx.multivariateOption.findMany({
    where: { featureId, archivedAt: null },
    orderBy: [{ priority: 'asc' }, { id: 'asc' }],
  });
  if (archived) throw new ExperimentNotReadyError('The feature is archived.', []);
  if (options.length === 0) throw new ExperimentNotReadyError('The feature has no multivariate options.', []);
  const unkeyed = options.filter((option) => option.key === null);
  if (unkeyed.length > 0) {
    throw new ExperimentNotReadyError(
      `Every live option needs a variant key; ${unkeyed.length} ha${unkeyed.length === 1 ? 's' : 've'} none.`,
      unkeyed.map((option) => ({ id: option.id, name: option.name })),
    );
  }
  return options;
}

async function assertNoOpenExperiment(tx: Tx, environmentId: number, featureId: number, except: number | null): Promise<void> {
  const open = await tx.experiment.findFirst({
    where: { environmentId, featureId, status: { in: ['DRAFT', 'RUNNING'] }, ...(except === null ? {} : { id: { not: except } }) },
    select: { id: true, name: true },
  });
  if (open) throw new ExperimentExistsError(open, except === null ? ['feature'] : ['id']);
}

async function createExperiment(prisma: PrismaClient, input: CreateExperimentInput): Promise<Written<Experiment>> {
  const name = normaliseExperimentName(input.name);
  const hypothesis = normaliseHypothesis(input.hypothesis);
  const environment = await prisma.environment.findUnique({ where: { id: input.environmentId }, select: { id: true, projectId: true } });
  if (!environment) throw new NotFoundError('No environment with this id.', null, ['environmentId']);
  const featureName = input.feature.trim();
  const feature = await prisma.feature.findUnique({
    where: { projectId_name: { projectId: environment.projectId, name: featureName } },
    select: { id: true },
  });
  if (!feature) throw new ValidationError('FEATURE_NOT_FOUND', `No feature named "${echo(featureName)}" in this project.`, ['feature']);
  try {
    return await prisma.$transaction(async (tx) => {
      const { archivedAt } = await lockFeatureRow(tx, feature.id, ['feature']);
      await readyOptions(tx, feature.id, archivedAt !== null);
      await assertNoOpenExperiment(tx, environment.id, feature.id, null);
      const taken = await tx.experiment.findUnique({ where: { environmentId_name: { environmentId: environment.id, name } }, select: { id: true } });
      if (taken) throw duplicateName(name);
      const experiment = await tx.experiment.create({ data: { environmentId: environment.id, featureId: feature.id, name, hypothesis } });
      await audit(tx, 'Experiment', null, experiment);
      return { value: experiment, environmentIds: [] };
    }, TRANSACTION_OPTIONS);
  } catch (error) {
    const fields = uniqueViolationFields(error);
    if (fields && (fields.includes(NAME_INDEX) || (fields.includes('environmentId') && fields.includes('name')))) throw duplicateName(name);
    throw error;
  }
}

/** The experiment's feature, read before locking it: an experiment never moves. */
async function featureOfExperiment(prisma: PrismaClient, id: number): Promise<number> {
  const experiment = await prisma.experiment.findUnique({ where: { id }, select: { featureId: true } });
  if (!experiment) throw new NotFoundError('No experiment with this id.', null, ['id']);
  return experiment.featureId;
}

/** Each live option's effective weight in the environment, then control's: what an iteration freezes. */
async function currentAllocation(tx: Tx, environmentId: number, featureId: number, archived: boolean): Promise<AllocationEntry[]> {
  const options = await readyOptions(tx, featureId, archived);
  const state = await tx.featureState.findUnique({
    where: { environmentId_featureId: { environmentId, featureId } },
    select: { allocations: { select: { optionId: true, weight: true } } },
  });
  const weights = effectiveWeights(options, state?.allocations ?? []);
  return [
    ...weights.map(({ option, weight }) => ({ key: option.key as string, weight })),
    { key: VARIANT_CONTROL, weight: controlWeight(weights) },
  ];
}

async function startExperiment(prisma: PrismaClient, id: number): Promise<Written<Experiment>> {
  const featureId = await featureOfExperiment(prisma, id);
  return prisma.$transaction(async (tx) => {
    const { archivedAt } = await lockFeatureRow(tx, featureId, ['id']);
    const experiment = await tx.experiment.findUniqueOrThrow({ where: { id } });
    if (experiment.status === 'RUNNING') throw new ExperimentStatusError(experiment.status, 'start');
    await assertNoOpenExperiment(tx, experiment.environmentId, featureId, id);
    const allocation = await currentAllocation(tx, experiment.environmentId, featureId, archivedAt !== null);
    const last = await tx.experimentIteration.aggregate({ where: { experimentId: id }, _max: { number: true } });
    const [{ now }] = await tx.$queryRaw<{ now: Date }[]>`SELECT now() AS "now"`;
    await tx.experimentIteration.create({
      data: { experimentId: id, number: (last._max.number ?? 0) + 1, startedAt: now, allocation: allocation as unknown as Prisma.InputJsonValue },
    });
    const started = await tx.experiment.update({ where: { id }, data: { status: 'RUNNING', winnerKey: null } });
    await audit(tx, 'Experiment', experiment, started);
    return { value: started, environmentIds: [experiment.environmentId] };
  }, TRANSACTION_OPTIONS);
}

async function stopExperiment(prisma: PrismaClient, input: StopExperimentInput): Promise<Written<Experiment>> {
  const winnerKey = input.winnerKey?.trim() || null;
  const ship = input.ship ?? false;
  if (ship && winnerKey === null) throw new ValidationError('INVALID_INPUT', 'Shipping needs a winnerKey.', ['winnerKey']);
  const featureId = await featureOfExperiment(prisma, input.id);
  return prisma.$transaction(async (tx) => {
    await lockFeatureRow(tx, featureId, ['id']);
    const experiment = await tx.experiment.findUniqueOrThrow({ where: { id: input.id } });
    if (experiment.status !== 'RUNNING') throw new ExperimentStatusError(experiment.status, 'stop');
    const iteration = await tx.experimentIteration.findFirstOrThrow({ where: { experimentId: input.id, stoppedAt: null } });
    const keys = (iteration.allocation as unknown as AllocationEntry[]).map((entry) => entry.key);
    if (winnerKey !== null && !keys.includes(winnerKey)) {
      throw new ValidationError('UNKNOWN_VARIANT_KEY', `"${echo(winnerKey)}" is not a variant of this experiment (${keys.join(', ')}).`, ['winnerKey']);
    }
    const [{ now }] = await tx.$queryRaw<{ now: Date }[]>`SELECT now() AS "now"`;
    await tx.experimentIteration.update({ where: { id: iteration.id }, data: { stoppedAt: now } });
    const stopped = await tx.experiment.update({
      where: { id: input.id },
      data: { status: 'STOPPED', winnerKey, stoppedAt: now, stoppedByTokenId: input.stoppedByTokenId },
    });
    // Shipping changes the feature state: its value and weights show in the same entry.
    const shipped = ship && winnerKey !== null;
    const state = { environmentId_featureId: { environmentId: experiment.environmentId, featureId } };
    const stateBefore = shipped ? await featureStateWithAllocations(tx, state) : undefined;
    if (shipped) await ship_(tx, experiment.environmentId, featureId, winnerKey);
    const stateAfter = shipped ? await featureStateWithAllocations(tx, state) : undefined;
    await audit(tx, 'Experiment', { ...experiment, featureState: stateBefore }, { ...stopped, featureState: stateAfter });
    return { value: stopped, environmentIds: [experiment.environmentId] };
  }, TRANSACTION_OPTIONS);
}

/** Everybody in the environment gets the winner: the state's value becomes the winner's (kept for control), every live option's weight 0. */
async function ship_(tx: Tx, environmentId: number, featureId: number, winnerKey: string): Promise<void> {
  const options = await tx.multivariateOption.findMany({ where: { featureId, archivedAt: null }, select: { id: true, key: true, value: true } });
  const state = await tx.featureState.upsert({
    where: { environmentId_featureId: { environmentId, featureId } },
    create: { environmentId, featureId },
    update: {},
    select: { id: true },
  });
  const winner = options.find((option) => option.key === winnerKey);
  if (winner) {
    await tx.featureState.update({
      where: { id: state.id },
      data: { value: winner.value === null ? Prisma.JsonNull : (winner.value as Prisma.InputJsonValue) },
    });
  }
  for (const option of options) {
    await tx.variantAllocation.upsert({
      where: { featureStateId_optionId: { featureStateId: state.id, optionId: option.id } },
      create: { featureStateId: state.id, optionId: option.id, weight: 0 },
      update: { weight: 0 },
    });
  }
}

// ---------------------------------------------------------------------------------------
// Results

export const SRM_MIN_IDENTITIES = 100;

export type SrmStatus = 'INSUFFICIENT_DATA' | 'OK' | 'WARNING' | 'FAILED';

export interface VariantResult {
  key: string;
  exposures: number;
  /** Identities whose first exposure in the iteration was this variant. */
  identities: number;
  /** Of those, the ones also exposed to another variant in the iteration. */
  conflictedIdentities: number;
  observedShare: number;
  /** The variant's weight in the iteration's frozen allocation, as a share of 1. */
  expectedShare: number;
}

export interface ExperimentResults {
  iteration: number;
  exposures: number;
  identities: number;
  conflictedIdentities: number;
  variants: VariantResult[];
  srm: { pValue: number | null; status: SrmStatus };
}

/** INSUFFICIENT_DATA below 100 identities (or with nothing to test), else by p: FAILED < 0.001 <= WARNING < 0.01 <= OK. */
export function srmStatus(identities: number, pValue: number | null): SrmStatus {
  if (identities < SRM_MIN_IDENTITIES || pValue === null) return 'INSUFFICIENT_DATA';
  if (pValue < 0.001) return 'FAILED';
  if (pValue < 0.01) return 'WARNING';
  return 'OK';
}

/** A statement with JIT off, in its own short transaction. */
function withoutJit<T>(prisma: PrismaClient, query: Prisma.PrismaPromise<T>): Promise<T> {
  return prisma.$transaction([prisma.$executeRaw`SET LOCAL jit = off`, query]).then(([, rows]) => rows as T);
}

/** The summary of one iteration (the latest when none is given); null when it does not exist. */
export async function experimentResults(
  prisma: PrismaClient,
  experimentId: number,
  iterationNumber: number | null,
): Promise<ExperimentResults | null> {
  const iteration = await prisma.experimentIteration.findFirst({
    where: { experimentId, ...(iterationNumber === null ? {} : { number: iterationNumber }) },
    orderBy: { number: 'desc' },
  });
  if (!iteration) return null;
  // Identities from the iteration's assignment rows (one per identity, kept exact by the exposure
  // statement), not from its exposures: a fraction of the rows, and no sort per identity.
  // Exposures per key from Exposure's (experimentId, iteration, variantKey) index alone. The two
  // run side by side; JIT off: compiling these plans costs more than running them.
  const [identityCounts, exposureCounts] = await Promise.all([
    withoutJit(
      prisma,
      prisma.$queryRaw<{ key: string; identities: bigint; conflicted: bigint }[]>`
        SELECT "firstVariantKey" AS "key", count(*) AS "identities", count(*) FILTER (WHERE "conflicted") AS "conflicted"
        FROM "ExperimentAssignment" WHERE "experimentId" = ${experimentId} AND "iteration" = ${iteration.number} GROUP BY 1 ORDER BY 1`,
    ),
    withoutJit(
      prisma,
      prisma.$queryRaw<{ key: string; exposures: bigint }[]>`
        SELECT "variantKey" AS "key", count(*) AS "exposures"
        FROM "Exposure" WHERE "experimentId" = ${experimentId} AND "iteration" = ${iteration.number} GROUP BY 1 ORDER BY 1`,
    ),
  ]);
  const allocation = iteration.allocation as unknown as AllocationEntry[];
  const keys = [...allocation.map((entry) => entry.key)];
  // Keys exposed but not in the allocation (a client reporting a stale variant) still count.
  for (const row of [...exposureCounts, ...identityCounts]) if (!keys.includes(row.key)) keys.push(row.key);
  const exposuresOf = new Map(exposureCounts.map((row) => [row.key, Number(row.exposures)]));
  const identitiesOf = new Map(identityCounts.map((row) => [row.key, { identities: Number(row.identities), conflicted: Number(row.conflicted) }]));
  const identities = identityCounts.reduce((sum, row) => sum + Number(row.identities), 0);
  const variants = keys.map((key) => {
    const counted = identitiesOf.get(key) ?? { identities: 0, conflicted: 0 };
    const weight = allocation.find((entry) => entry.key === key)?.weight ?? 0;
    return {
      key,
      exposures: exposuresOf.get(key) ?? 0,
      identities: counted.identities,
      conflictedIdentities: counted.conflicted,
      observedShare: identities === 0 ? 0 : counted.identities / identities,
      expectedShare: Math.round((weight / 100) * 1e10) / 1e10,
    };
  });
  const srm = sampleRatioMismatch(variants.map((v) => ({ observed: v.identities, expectedShare: v.expectedShare })));
  return {
    iteration: iteration.number,
    exposures: variants.reduce((sum, v) => sum + v.exposures, 0),
    identities,
    conflictedIdentities: variants.reduce((sum, v) => sum + v.conflictedIdentities, 0),
    variants,
    srm: { pValue: srm?.pValue ?? null, status: srmStatus(identities, srm?.pValue ?? null) },
  };
}
