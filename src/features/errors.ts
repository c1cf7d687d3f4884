// Expected failures of features and options that carry more than a code and a path: the
// variant key at fault, and the environment whose weights would exceed 100.
import { AppError, type ErrorPath } from '../errors/app-errors.js';

export type VariantKeyErrorCode =
  | 'INVALID_VARIANT_KEY'
  | 'RESERVED_VARIANT_KEY'
  | 'DUPLICATE_VARIANT_KEY'
  | 'VARIANT_KEY_IN_USE';

/** A variant key that breaks a rule of SPEC.md section 2; `key` is the key as normalised (or as given when invalid). */
export class VariantKeyError extends AppError {
  declare readonly code: VariantKeyErrorCode;
  constructor(
    code: VariantKeyErrorCode,
    message: string,
    readonly key: string | null,
    path: ErrorPath = [],
  ) {
    super(code, message, path);
  }
}

/**
 * The effective weights of the live options would sum to more than 100 in one environment,
 * or (environment null) their default weights would.
 */
export class WeightsError extends AppError {
  declare readonly code: 'WEIGHTS_EXCEED_100';
  constructor(
    message: string,
    readonly environment: { id: number; name: string } | null,
    readonly total: number,
    path: ErrorPath = [],
  ) {
    super('WEIGHTS_EXCEED_100', message, path);
  }
}
