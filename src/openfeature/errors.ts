// OFREP answers its failures in its own vocabulary (`errorCode` / `errorDetails`, the codes of
// the OpenFeature specification), which providers map to their error types: not the app's codes.

export type OfrepErrorCode = 'PARSE_ERROR' | 'INVALID_CONTEXT' | 'TARGETING_KEY_MISSING' | 'FLAG_NOT_FOUND' | 'GENERAL';

/** A refused request: its HTTP status and the OFREP `errorCode` / `errorDetails`. */
export class OfrepError extends Error {
  constructor(
    readonly status: 400 | 404,
    readonly code: OfrepErrorCode,
    message: string,
  ) {
    super(message);
  }
}
