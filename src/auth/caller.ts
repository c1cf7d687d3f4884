// Resolves who is calling from a request's headers (SPEC.md section 4), for GraphQL and plain routes alike.
import type { PrismaClient } from '../generated/prisma/client.js';
import { type Caller, hashSecret } from './credentials.js';
import type { EnvironmentKeyCache } from './environment-keys.js';

/** lastUsedAt is informational: refreshed at most this often per token. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** What resolving a caller reads of a request's headers: Fetch's Headers, or a plain route's reader (src/http/bridge.ts). */
export type HeaderReader = Pick<Headers, 'get'>;

export type ResolveCaller = (headers: HeaderReader) => Promise<Caller>;

export function createCallerResolver(deps: { prisma: PrismaClient; environmentKeys: EnvironmentKeyCache }): ResolveCaller {
  const { prisma, environmentKeys } = deps;
  return async (headers) => {
    const authorization = headers.get('authorization');
    if (authorization !== null) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!match) return { kind: 'anonymous', rejected: true };
      const token = await prisma.apiToken.findUnique({ where: { tokenHash: hashSecret(match[1]) } });
      if (!token || token.revokedAt) return { kind: 'anonymous', rejected: true };
      // Off the request path.
      if (!token.lastUsedAt || Date.now() - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
        prisma.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: new Date() } }).catch(() => {});
      }
      return { kind: 'token', tokenId: token.id, tokenName: token.name, scopes: token.scopes };
    }
    const environmentKey = headers.get('x-environment-key');
    if (environmentKey !== null) {
      const environment = await environmentKeys.lookup(environmentKey.trim());
      if (!environment) return { kind: 'anonymous', rejected: true };
      return { kind: 'client', ...environment };
    }
    return { kind: 'anonymous', rejected: false };
  };
}
