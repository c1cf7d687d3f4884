// The one table of what a caller may do, and the one answer when it may not: used by the
// GraphQL scope-auth setup (src/schema/builder.ts) and by plain HTTP routes.
import type { Caller } from './credentials.js';

export interface AuthScopes {
  /** A bearer token with the ADMIN scope. */
  admin: boolean;
  /** A bearer token with ANALYTICS or ADMIN. */
  analytics: boolean;
  /** A client: `X-Environment-Key` of an environment. */
  client: boolean;
}

export type AuthScope = keyof AuthScopes;

export function authScopes(caller: Caller): AuthScopes {
  return {
    admin: grants(caller, 'admin'),
    analytics: grants(caller, 'analytics'),
    client: grants(caller, 'client'),
  };
}

/** One scope of `authScopes`, without building the table (plain routes ask on every request). */
export function grants(caller: Caller, scope: AuthScope): boolean {
  switch (scope) {
    case 'admin':
      return caller.kind === 'token' && caller.scopes.includes('ADMIN');
    case 'analytics':
      return caller.kind === 'token' && (caller.scopes.includes('ADMIN') || caller.scopes.includes('ANALYTICS'));
    case 'client':
      return caller.kind === 'client';
  }
}

export interface AuthFailure {
  code: 'UNAUTHENTICATED' | 'FORBIDDEN';
  status: 401 | 403;
  message: string;
}

/** Why a caller that holds none of the scopes asked for is refused. */
export function authFailure(caller: Caller): AuthFailure {
  if (caller.kind !== 'anonymous') return { code: 'FORBIDDEN', status: 403, message: 'These credentials do not allow this operation.' };
  return {
    code: 'UNAUTHENTICATED',
    status: 401,
    message: caller.rejected
      ? 'The credentials are not valid (unknown, malformed or revoked).'
      : 'Authentication required: send `Authorization: Bearer <token>` or `X-Environment-Key: <key>`.',
  };
}
