// Expected failures. Every one is an AppError: a code from codes.ts, a message, and the path
// of the input at fault. Mutations return them as typed members of their result union; queries
// and plain HTTP routes answer them with the same code (see toGraphQLError and httpStatusOf).
import { GraphQLError } from 'graphql';
import type { ErrorCode } from './codes.js';

export type ErrorPath = (string | number)[];

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** The offending input field, e.g. ["options", 1, "key"]; empty when no one field is. */
    readonly path: ErrorPath = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Input that breaks a rule; `path` names the offending input field (e.g. ["options", 1, "key"]). */
export class ValidationError extends AppError {}

/** An id that does not exist or belongs to something the caller cannot see. */
export class NotFoundError extends AppError {
  declare readonly code: 'NOT_FOUND';
  constructor(
    message: string,
    readonly id: string | null = null,
    path: ErrorPath = [],
  ) {
    super('NOT_FOUND', message, path);
  }
}

/** A name already taken where names are unique (projects, environments, features). */
export class DuplicateNameError extends AppError {
  declare readonly code: 'DUPLICATE_NAME' | 'DUPLICATE_FEATURE_NAME';
  constructor(
    code: 'DUPLICATE_NAME' | 'DUPLICATE_FEATURE_NAME',
    message: string,
    readonly name_: string,
    path: ErrorPath = [],
  ) {
    super(code, message, path);
  }
}

/** Where no result union can carry it (queries): a GraphQL error with `extensions.code`. */
export function toGraphQLError(error: AppError): GraphQLError {
  return new GraphQLError(error.message, { extensions: { code: error.code } });
}

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  FEATURE_NOT_FOUND: 404,
  BATCH_TOO_LARGE: 413,
  INTERNAL_SERVER_ERROR: 500,
};

/** The status a plain HTTP route answers an expected failure with; any other code is bad input. */
export function httpStatusOf(error: AppError): number {
  return HTTP_STATUS[error.code] ?? 400;
}
