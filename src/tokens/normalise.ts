// Pure checks of API-token input (no database).
import { ValidationError } from '../errors/app-errors.js';
import type { ApiScope } from '../generated/prisma/enums.js';

export const SCOPES_PER_INPUT_MAX = 10;

/** The token's trimmed name and its distinct scopes, or the first rule broken. */
export function normaliseTokenInput(input: { name: string; scopes: ApiScope[] }): { name: string; scopes: ApiScope[] } {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100) {
    throw new ValidationError('INVALID_NAME', 'A token name must be 1-100 characters.', ['name']);
  }
  if (input.scopes.length > SCOPES_PER_INPUT_MAX) {
    throw new ValidationError('INVALID_INPUT', `At most ${SCOPES_PER_INPUT_MAX} scopes per token.`, ['scopes']);
  }
  const scopes = [...new Set(input.scopes)];
  if (scopes.length === 0) {
    throw new ValidationError('INVALID_INPUT', 'A token needs at least one scope (ADMIN or ANALYTICS).', ['scopes']);
  }
  return { name, scopes };
}
