// Weights of multivariate options (SPEC.md section 2): each 0-100, and per environment the
// effective weights of the live options (the environment's VariantAllocation, else the
// option's defaultWeight) sum to at most 100; the rest is the control bucket. Pure: the check
// of a feature's sums after a write is assertWeightsWithin100 in service.ts.
import { ValidationError } from '../errors/app-errors.js';

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

/** Whether the weights sum to more than 100 (exactly, in hundredths). */
export function weightsExceed100(weights: { weight: number }[]): boolean {
  return totalHundredths(weights) > FULL;
}

/** What the control bucket keeps in an environment: 100 minus the options' effective weights. */
export function controlWeight(weights: { weight: number }[]): number {
  return Math.max(0, FULL - totalHundredths(weights)) / SCALE;
}
