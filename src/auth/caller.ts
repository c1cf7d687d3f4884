// Resolves who is calling from a request's headers (SPEC.md section 4), for GraphQL and plain routes alike.
import type { PrismaClient } from '../generated/prisma/client.js';
import { type Caller, hashSecret } from './credentials.js';
import type { EnvironmentKeyCache, EnvironmentRef } from './environment-keys.js';

/** lastUsedAt is informational: refreshed at most this often per token. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** What resolving a caller reads of a request's headers: Fetch's Headers, or a plain route's reader (src/http/bridge.ts). */
export type HeaderReader = Pick<Headers, 'get'>;

/** The caller, at once when no query is needed (a remembered client key, no credentials, malformed ones). */
export type ResolveCaller = (headers: HeaderReader) => Caller | Promise<Caller>;

export function createCallerResolver(deps: { prisma: PrismaClient; environmentKeys: EnvironmentKeyCache }): ResolveCaller {
  const { prisma, environmentKeys } = deps;

  async function tokenCaller(secret: string): Promise<Caller> {
    const token = await prisma.apiToken.findUnique({ where: { tokenHash: hashSecret(secret) } });
    if (!token || token.revokedAt) return { kind: 'anonymous', rejected: true };
    // Off the request path.
    if (!token.lastUsedAt || Date.now() - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      prisma.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: new Date() } }).catch(() => {});
    }
    return { kind: 'token', tokenId: token.id, tokenName: token.name, scopes: token.scopes };
  }

  return (headers) => {
    const authorization = headers.get('authorization');
    if (authorization !== null) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!match) return { kind: 'anonymous', rejected: true };
      return tokenCaller(match[1]);
    }
    const environmentKey = headers.get('x-environment-key');
    if (environmentKey !== null) {
      const environment = environmentKeys.lookup(environmentKey.trim());
      return environment instanceof Promise ? environment.then(clientCaller) : clientCaller(environment);
    }
    return { kind: 'anonymous', rejected: false };
  };
}

function clientCaller(environment: EnvironmentRef | undefined): Caller {
  if (!environment) return { kind: 'anonymous', rejected: true };
  return { kind: 'client', environmentId: environment.environmentId, projectId: environment.projectId };
}
