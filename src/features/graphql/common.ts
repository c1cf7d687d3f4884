// What the GraphQL files of features share: who may read, the order of options, and how a
// resolver reaches the commands and announces what a committed write changed.
import type { Context } from '../../context.js';
import { numericId } from '../../schema/builder.js';
import type { FeatureService } from '../service.js';

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
  return context.services.features;
}

export { announce } from '../../schema/announce.js';
