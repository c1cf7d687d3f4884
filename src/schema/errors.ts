// GraphQL shapes of the expected failures: the `Error` interface, the `ErrorCode` enum,
// and the error object types that mutation result unions list.
import { builder } from './builder.js';
import { AppError, DuplicateNameError, NotFoundError, ValidationError } from '../errors/app-errors.js';
import { ERROR_CODES } from '../errors/codes.js';

export const ErrorCodeEnum = builder.enumType('ErrorCode', { values: ERROR_CODES });

export const ErrorInterface = builder.interfaceRef<AppError>('Error').implement({
  description: 'An expected failure, returned as data in a mutation result.',
  fields: (t) => ({
    message: t.exposeString('message'),
    code: t.field({ type: ErrorCodeEnum, resolve: (error) => error.code }),
  }),
});


builder.objectType(ValidationError, {
  name: 'ValidationError',
  description: 'Input that breaks a rule; `path` names the input field.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ValidationError,
  fields: (t) => ({
    path: t.stringList({ resolve: (error) => error.path.map(String) }),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'The id does not exist, or is not visible to the caller.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof NotFoundError,
  fields: (t) => ({
    id: t.exposeString('id', { nullable: true }),
    path: t.stringList({ resolve: (error) => error.path.map(String) }),
  }),
});

builder.objectType(DuplicateNameError, {
  name: 'DuplicateNameError',
  description: 'The name is already taken.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof DuplicateNameError,
  fields: (t) => ({
    name: t.string({ resolve: (error) => error.name_ }),
    path: t.stringList({ resolve: (error) => error.path.map(String) }),
  }),
});
