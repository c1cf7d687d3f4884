// What an identity's identifier may be, for every path that creates identities (`flags`,
// exposures): SPEC's 1-2000 characters, and what PostgreSQL can store and index.
export const IDENTIFIER_MAX_LENGTH = 2000;
/**
 * The unique index on Identity(environmentId, identifier) holds entries of at most 2704 bytes:
 * 2000 characters outside ASCII can be 8000. A longer identifier is refused up front rather
 * than failing in the database.
 */
export const IDENTIFIER_MAX_BYTES = 2600;

/** NUL and unpaired surrogates: PostgreSQL text cannot hold them as sent. */
export const UNSTORABLE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const IDENTIFIER_RULE = `An identifier is 1-${IDENTIFIER_MAX_LENGTH} characters and at most ${IDENTIFIER_MAX_BYTES} bytes of UTF-8 (no NUL, no unpaired surrogate).`;

export function isValidIdentifier(identifier: string): boolean {
  return (
    identifier.length >= 1 &&
    identifier.length <= IDENTIFIER_MAX_LENGTH &&
    !UNSTORABLE_TEXT.test(identifier) &&
    // Cheap first: only long identifiers can exceed the byte limit.
    !(identifier.length > IDENTIFIER_MAX_BYTES / 4 && Buffer.byteLength(identifier, 'utf8') > IDENTIFIER_MAX_BYTES)
  );
}
