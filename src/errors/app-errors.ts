// Expected failures. Rules throw these; the GraphQL layer turns them into typed members of
// each mutation's result union (never into GraphQL errors).
import type { ErrorCode } from './codes.js';

export abstract class AppError extends Error {
  abstract readonly code: ErrorCode;
}

/** Input that breaks a rule; `path` names the offending input field (e.g. ["options", 1, "key"]). */
export class ValidationError extends AppError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly path: (string | number)[] = [],
  ) {
    super(message);
    this.name = 'ValidationError';
  }
}

/** An id that does not exist or belongs to something the caller cannot see. */
export class NotFoundError extends AppError {
  readonly code = 'NOT_FOUND' as const;
  constructor(
    message: string,
    readonly id: string | null = null,
    readonly path: (string | number)[] = [],
  ) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** A name already taken where names are unique (projects, environments, features). */
export class DuplicateNameError extends AppError {
  constructor(
    readonly code: 'DUPLICATE_NAME' | 'DUPLICATE_FEATURE_NAME',
    message: string,
    readonly name_: string,
    readonly path: (string | number)[] = [],
  ) {
    super(message);
    this.name = 'DuplicateNameError';
  }
}
