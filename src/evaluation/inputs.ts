// Checks of what a client sends to `flags` / `flag`. These are queries, so a bad argument is
// a GraphQL error with `extensions.code` (there is no result union to put it in).
import type { GraphQLError } from 'graphql';
import type { TraitValue } from '../engine/index.js';
import { toGraphQLError, ValidationError } from '../errors/app-errors.js';
import { echo } from '../errors/echo.js';
import { IDENTIFIER_RULE, isValidIdentifier, UNSTORABLE_TEXT } from '../identities/identifier.js';

export type Traits = Record<string, TraitValue>;

export const TRAITS_MAX = 100;
export const TRAIT_NAME_MAX = 200;
export const TRAIT_STRING_MAX = 2000;

/** Taken as given (identifiers are opaque: no trimming); the same rule as exposures. */
export function checkIdentifier(identifier: string): string {
  if (!isValidIdentifier(identifier)) {
    throw toGraphQLError(new ValidationError('INVALID_IDENTIFIER', IDENTIFIER_RULE));
  }
  return identifier;
}

export function invalidInput(message: string): GraphQLError {
  return toGraphQLError(new ValidationError('INVALID_INPUT', message));
}

/**
 * Traits: a JSON object of at most 100 scalar values (string up to 2000 characters, finite
 * number, boolean, or null to delete the trait); names of 1-200 characters.
 */
export function checkTraits(raw: unknown): Traits | undefined {
  if (raw === null || raw === undefined) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidInput('traits must be a JSON object of trait names to values.');
  const names = Object.keys(raw);
  if (names.length > TRAITS_MAX) throw invalidInput(`At most ${TRAITS_MAX} traits per request.`);
  // Null prototype: a trait named "__proto__" is just a trait.
  const traits = Object.create(null) as Traits;
  for (const name of names) {
    const value = (raw as Record<string, unknown>)[name];
    if (name.length < 1 || name.length > TRAIT_NAME_MAX) throw invalidInput(`Trait names must be 1-${TRAIT_NAME_MAX} characters.`);
    // PostgreSQL cannot store these: refused here, before the identity write they would fail
    // (and with it the other requests whose writes share its statement).
    if (UNSTORABLE_TEXT.test(name)) throw invalidInput('Trait names cannot hold NUL or unpaired surrogates.');
    if (typeof value === 'string') {
      if (value.length > TRAIT_STRING_MAX) throw invalidInput(`Trait "${echo(name)}": strings are at most ${TRAIT_STRING_MAX} characters.`);
      if (UNSTORABLE_TEXT.test(value)) throw invalidInput(`Trait "${echo(name)}": strings cannot hold NUL or unpaired surrogates.`);
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw invalidInput(`Trait "${echo(name)}": numbers must be finite.`);
    } else if (typeof value !== 'boolean' && value !== null) {
      throw invalidInput(`Trait "${echo(name)}": a trait value is a string, number, boolean or null (null deletes the trait).`);
    }
    traits[name] = value;
  }
  return traits;
}
