// Weights of multivariate options (SPEC.md section 2): each 0-100, and per environment the
// effective weights of the live options (the environment's VariantAllocation, else the
// option's defaultWeight) sum to at most 100; the rest is the control bucket.
import { ValidationError } from '../errors/app-errors.js';
import type { Prisma } from '../generated/prisma/client.js';
import { WeightsError } from './errors.js';

type Tx = Prisma.TransactionClient;

/**
 * Weights are percentages with at most two decimals (hundredths of a percent). Sums are
 * taken in integer hundredths: exact, with no tolerance for a float just above 100.
 */
export const WEIGHT_DECIMALS = 2;
const SCALE = 10 ** WEIGHT_DECIMALS;
const FULL = 100 * SCALE;

/** A weight in integer hundredths (weights stored before the two-decimal rule are rounded). */
export function weightHundredths(weight: number): number {
  return Math.round(weight * SCALE);
}

/** A weight as given: a number from 0 to 100 with at most two decimals, else INVALID_WEIGHT. */
export function normaliseWeight(raw: number, path: (string | number)[]): number {
  // A decimal with at most two places parses to the double nearest to n / 100, which is what
  // the division gives: anything else had more places.
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < 0 || raw > 100 || weightHundredths(raw) / SCALE !== raw) {
    throw new ValidationError('INVALID_WEIGHT', `A weight is a number from 0 to 100 with at most ${WEIGHT_DECIMALS} decimals.`, path);
  }
  return raw;
}

export interface EffectiveWeight<Option> {
  option: Option;
  weight: number;
  /** True when the environment's VariantAllocation sets it, false for the option's defaultWeight. */
  overridden: boolean;
}

/** Each live option's weight in one environment, in the order the options are given. */
export function effectiveWeights<Option extends { id: number; defaultWeight: number; archivedAt: Date | null }>(
  options: Option[],
  allocations: { optionId: number; weight: number }[],
): EffectiveWeight<Option>[] {
  const byOption = new Map(allocations.map((allocation) => [allocation.optionId, allocation.weight]));
  return options
    .filter((option) => option.archivedAt === null)
    .map((option) => {
      const allocated = byOption.get(option.id);
      return { option, weight: allocated ?? option.defaultWeight, overridden: allocated !== undefined };
    });
}

/** The sum of the weights, exact to the hundredth. */
export function totalWeight(weights: { weight: number }[]): number {
  return totalHundredths(weights) / SCALE;
}

function totalHundredths(weights: { weight: number }[]): number {
  return weights.reduce((sum, { weight }) => sum + weightHundredths(weight), 0);
}

/** What the control bucket keeps in an environment: 100 minus the options' effective weights. */
export function controlWeight(weights: { weight: number }[]): number {
  return Math.max(0, FULL - totalHundredths(weights)) / SCALE;
}

/**
 * Checks every environment of a feature after a write that can change a sum, inside the
 * write's transaction (the feature row is locked, so no concurrent write can add to a sum
 * that this check has passed). The default weights alone must fit too, as in Flagsmith:
 * they are what an environment created later starts with.
 */
export async function assertWeightsWithin100(tx: Tx, featureId: number, path: (string | number)[]): Promise<void> {
  const options = await tx.multivariateOption.findMany({
    where: { featureId, archivedAt: null },
    select: { id: true, defaultWeight: true, archivedAt: true },
  });
  const states = await tx.featureState.findMany({
    where: { featureId },
    orderBy: { environmentId: 'asc' },
    select: {
      environment: { select: { id: true, name: true } },
      allocations: { select: { optionId: true, weight: true } },
    },
  });
  for (const state of states) {
    const weights = effectiveWeights(options, state.allocations);
    if (totalHundredths(weights) > FULL) {
      const total = totalWeight(weights);
      throw new WeightsError(
        `The weights of the options in environment "${state.environment.name}" would sum to ${total}, more than 100.`,
        state.environment,
        total,
        path,
      );
    }
  }
  const defaultWeights = effectiveWeights(options, []);
  if (totalHundredths(defaultWeights) > FULL) {
    const defaults = totalWeight(defaultWeights);
    throw new WeightsError(
      `The default weights of the options would sum to ${defaults}, more than 100 (new environments start with them).`,
      null,
      defaults,
      path,
    );
  }
}
