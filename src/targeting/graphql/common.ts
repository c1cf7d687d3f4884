// What the GraphQL files of targeting share: who may read, and how a resolver reaches the
// commands and announces what a committed write changed.
import { type Context, emitEnvironmentsChanged } from '../../context.js';
import { numericId } from '../../schema/builder.js';
import { createTargetingService, type TargetingService } from '../service.js';

export const readers = { $any: { admin: true, analytics: true } } as const;

/** The database id of a global id that src/schema/global-id.ts has checked. */
export function decodeId(decoded: { id: string }): number {
  return numericId(decoded.id);
}

export function targetingService(context: Context): TargetingService {
  return createTargetingService({ prisma: context.prisma });
}

/** Tells the evaluation cache; the write has committed, so a listener's failure is only logged. */
export async function announce(context: Context, environmentIds: number[]): Promise<void> {
  try {
    await emitEnvironmentsChanged(context.services, environmentIds);
  } catch (error) {
    context.logger.error({ err: error, environmentIds }, 'an environmentsChanged listener failed');
  }
}
