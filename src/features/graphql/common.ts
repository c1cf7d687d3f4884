// What the GraphQL files of features share: who may read, the order of options, and how a
// resolver reaches the commands and announces what a committed write changed.
import { type Context, emitEnvironmentsChanged } from '../../context.js';
import { numericId } from '../../schema/builder.js';
import { createFeatureService, type FeatureService } from '../service.js';

export const readers = { $any: { admin: true, analytics: true } } as const;
export const liveOptionsInOrder = {
  where: { archivedAt: null },
  orderBy: [{ priority: 'asc' as const }, { id: 'asc' as const }],
};

/** The database id of a global id that src/schema/global-id.ts has checked. */
export function decodeId(decoded: { id: string }): number {
  return numericId(decoded.id);
}

export function featureService(context: Context): FeatureService {
  return createFeatureService({ prisma: context.prisma });
}

/** Tells the evaluation cache; the write has committed, so a listener's failure is only logged. */
export async function announce(context: Context, environmentIds: number[]): Promise<void> {
  try {
    await emitEnvironmentsChanged(context.services, environmentIds);
  } catch (error) {
    context.logger.error({ err: error, environmentIds }, 'an environmentsChanged listener failed');
  }
}
