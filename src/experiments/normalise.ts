// Pure validation of experiment inputs (no I/O).
import { ValidationError } from '../errors/app-errors.js';

export const EXPERIMENT_NAME_MAX_LENGTH = 100;
export const HYPOTHESIS_MAX_LENGTH = 2000;

type Path = (string | number)[];

/** Trimmed, 1-100 printable characters. */
export function normaliseExperimentName(raw: string, path: Path = ['name']): string {
  const name = raw.trim();
  if (name.length < 1 || name.length > EXPERIMENT_NAME_MAX_LENGTH || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new ValidationError('INVALID_NAME', `An experiment name must be 1-${EXPERIMENT_NAME_MAX_LENGTH} printable characters.`, path);
  }
  return name;
}

/** Trimmed; blank or absent is none; at most 2000 characters. */
export function normaliseHypothesis(raw: string | null | undefined, path: Path = ['hypothesis']): string | null {
  const hypothesis = raw?.trim() ?? '';
  if (hypothesis.length > HYPOTHESIS_MAX_LENGTH) {
    throw new ValidationError('INVALID_INPUT', `A hypothesis is at most ${HYPOTHESIS_MAX_LENGTH} characters.`, path);
  }
  return hypothesis === '' ? null : hypothesis;
}

export interface AllocationEntry {
  key: string;
  weight: number;
}
