// Every error code the API can answer with (SPEC.md section 4): as `Error.code` on typed
// mutation errors, and as `extensions.code` on GraphQL errors.
export const ERROR_CODES = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'INVALID_INPUT',
  'INVALID_NAME',
  'DUPLICATE_NAME',
  'INVALID_FEATURE_NAME',
  'DUPLICATE_FEATURE_NAME',
  'INVALID_VARIANT_KEY',
  'RESERVED_VARIANT_KEY',
  'DUPLICATE_VARIANT_KEY',
  'VARIANT_KEY_IN_USE',
  'INVALID_WEIGHT',
  'WEIGHTS_EXCEED_100',
  'FEATURE_NOT_FOUND',
  'UNKNOWN_VARIANT_KEY',
  'INVALID_IDENTIFIER',
  'INVALID_TIMESTAMP',
  'INVALID_EVENT_ID',
  'BATCH_TOO_LARGE',
  'LAST_ADMIN_TOKEN',
  'INTERNAL_SERVER_ERROR',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
