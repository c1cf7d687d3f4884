// Client keys (`X-Environment-Key`) and the environment each names.
import type { PrismaClient } from '../generated/prisma/client.js';

/** The environment a client key names: what evaluation and exposures work in. */
export interface EnvironmentRef {
  environmentId: number;
  projectId: number;
}

/**
 * Environment keys are immutable and environments are never deleted through the API, so
 * a key's environment can be remembered for the life of the process: the client hot path
 * (flags, exposures) then needs no query to authenticate.
 */
export class EnvironmentKeyCache {
  private readonly known = new Map<string, EnvironmentRef>();
  constructor(private readonly prisma: PrismaClient) {}

  /** The key's environment: at once when remembered, else read (undefined: no such key). */
  lookup(key: string): EnvironmentRef | Promise<EnvironmentRef | undefined> {
    return this.known.get(key) ?? this.read(key);
  }

  private async read(key: string): Promise<EnvironmentRef | undefined> {
    const environment = await this.prisma.environment.findUnique({
      where: { key },
      select: { id: true, projectId: true },
    });
    if (!environment) return undefined;
    const ref = { environmentId: environment.id, projectId: environment.projectId };
    if (this.known.size > 100_000) this.known.clear();
    this.known.set(key, ref);
    return ref;
  }
}
