// The per-request GraphQL context and the per-process services behind it.
import type { Logger } from 'pino';
import { type Caller, hashSecret } from './auth/credentials.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { PrismaClient } from './generated/prisma/client.js';

export interface EnvironmentRef {
  environmentId: number;
  projectId: number;
  environmentKey: string;
}

/**
 * Environment keys are immutable and environments are never deleted through the API, so
 * a key's environment can be remembered for the life of the process: the client hot path
 * (flags, exposures) then needs no query to authenticate.
 */
export class EnvironmentKeyCache {
  private readonly known = new Map<string, EnvironmentRef>();
  constructor(private readonly prisma: PrismaClient) {}

  async lookup(key: string): Promise<EnvironmentRef | undefined> {
    const hit = this.known.get(key);
    if (hit) return hit;
    const environment = await this.prisma.environment.findUnique({
      where: { key },
      select: { id: true, projectId: true, key: true },
    });
    if (!environment) return undefined;
    const ref = { environmentId: environment.id, projectId: environment.projectId, environmentKey: environment.key };
    if (this.known.size > 100_000) this.known.clear();
    this.known.set(key, ref);
    return ref;
  }
}

/** Evaluation as other domains need it (implemented in src/evaluation/). */
export interface EvaluationApi {
  /**
   * The variant key SPEC section 3 assigns this identity for each feature now, from the same
   * cached config as `flags`: an option key, `control`, or null (no variants, or an unkeyed
   * option won). Features that are not live in the environment are absent from the map.
   */
  assignedVariantKeys(environmentId: number, identifier: string, featureIds: number[]): Promise<Map<number, string | null>>;
}

/** A multivariate flag served with a non-null variant by `flags(recordExposures: true)`. */
export interface ServedVariant {
  featureId: number;
  optionId: number | null;
  variantKey: string;
}

export interface Services {
  config: Config;
  db: Database;
  prisma: PrismaClient;
  logger: Logger;
  environmentKeys: EnvironmentKeyCache;
  /** Hooks that domains register to learn of changes (cache invalidation). */
  hooks: ServiceHooks;
  /** Set by src/evaluation when the services are created. */
  evaluation?: EvaluationApi;
  /**
   * Set by src/exposures: records SERVER exposures for what `flags`/`flag` served with
   * `recordExposures: true` (one batched write per request).
   */
  recordServedVariants?: (
    environment: EnvironmentRef,
    identity: { id: number; identifier: string },
    served: ServedVariant[],
  ) => Promise<void>;
}

export interface ServiceHooks {
  /** Called after an admin write changed what an environment's clients evaluate. */
  environmentsChanged: Array<(environmentIds: number[]) => void | Promise<void>>;
}

/**
 * Tells every listener (the evaluation cache, here and in other server processes) that
 * these environments' evaluation config changed. Call it after the write committed.
 */
export async function emitEnvironmentsChanged(services: Services, environmentIds: number[]): Promise<void> {
  if (environmentIds.length === 0) return;
  const unique = [...new Set(environmentIds)];
  await Promise.all(services.hooks.environmentsChanged.map((listener) => listener(unique)));
}

export interface Context {
  services: Services;
  prisma: PrismaClient;
  caller: Caller;
  /** A GET request: nothing it runs may write. */
  readOnly: boolean;
  requestId: string;
  logger: Logger;
}

const LAST_USED_RESOLUTION_MS = 60_000;

export async function resolveCaller(services: Services, headers: Headers): Promise<Caller> {
  const { prisma } = services;
  const authorization = headers.get('authorization');
  if (authorization !== null) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) return { kind: 'anonymous', rejected: true };
    const token = await prisma.apiToken.findUnique({ where: { tokenHash: hashSecret(match[1]) } });
    if (!token || token.revokedAt) return { kind: 'anonymous', rejected: true };
    // lastUsedAt is informational: refresh it at most once a minute, off the request path.
    if (!token.lastUsedAt || Date.now() - token.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      prisma.apiToken.update({ where: { id: token.id }, data: { lastUsedAt: new Date() } }).catch(() => {});
    }
    return { kind: 'token', tokenId: token.id, scopes: token.scopes };
  }
  const environmentKey = headers.get('x-environment-key');
  if (environmentKey !== null) {
    const environment = await services.environmentKeys.lookup(environmentKey.trim());
    if (!environment) return { kind: 'anonymous', rejected: true };
    return { kind: 'client', ...environment };
  }
  return { kind: 'anonymous', rejected: false };
}
