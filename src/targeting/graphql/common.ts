// What the GraphQL files of targeting share: who may read, and how a resolver reaches the
// commands and announces what a committed write changed.
import type { Context } from '../../context.js';
import { numericId } from '../../schema/builder.js';
import type { TargetingService } from '../service.js';

export const readers = { $any: { admin: true, analytics: true } } as const;

/** The database id of a global id that src/schema/global-id.ts has checked. */
export function decodeId(decoded: { id: string }): number {
  return numericId(decoded.id);
}

export function targetingService(context: Context): TargetingService {
  return context.services.targeting;
}

export { announce } from '../../schema/announce.js';
