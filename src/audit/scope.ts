// Who is changing what: every mutation runs in an audit scope (set once for all of them by
// auditMutations in ./graphql.ts) holding its name and the calling token, and each admin
// write records its change with `audit(tx, ...)` inside its own transaction. The scope is
// carried by AsyncLocalStorage so that the domains' commands keep their signatures: the
// actor and the action come from the one place that knows them, the mutation being run.
import { AsyncLocalStorage } from 'node:async_hooks';
import { auditSnapshot, auditTargetId } from './normalise.js';
import { insertAuditEntry, type Tx } from './store.js';

export interface AuditActor {
  /** The API token that asks; null for a change made outside the API (`npm run admin:token`). */
  tokenId: number | null;
  /** The token's name, or what made the change. */
  name: string;
}

export interface AuditScope {
  /** The mutation's name (e.g. `updateFeatureState`). */
  action: string;
  /** null: the caller is not a token (a client key's mutations write nothing audited). */
  actor: AuditActor | null;
}

const scopes = new AsyncLocalStorage<AuditScope>();
/** Audited actions under way: the storage is switched off when none is (see release). */
let running = 0;

/**
 * On Node 20 an enabled AsyncLocalStorage puts a hook on every promise of the process (5-8% of
 * the CPU of a `flags` or OFREP request, which audit nothing). Admin changes are rare: the
 * storage is on only while one runs, and `run` switches it on again for the next.
 */
function release(): void {
  if (--running === 0) scopes.disable();
}

/** Runs `work` as the named action by this actor: the changes it audits name them. */
export function runAudited<T>(scope: AuditScope, work: () => T): T {
  running++;
  let result: T;
  try {
    result = scopes.run(scope, work);
  } catch (error) {
    release();
    throw error;
  }
  if (isThenable(result)) result.then(release, release);
  else release();
  return result;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** The action under way here, if any. */
export function currentAuditScope(): AuditScope | undefined {
  return scopes.getStore();
}

/**
 * Records one change of the running action, in `tx` (the transaction of the change): the row
 * before (null for a create) and after (null for a delete). Outside any scope (the first-start
 * seed, test fixtures) nothing is written.
 */
export async function audit(tx: Tx, targetType: string, before: unknown, after: unknown): Promise<void> {
  const scope = currentAuditScope();
  if (!scope) return;
  if (!scope.actor) throw new Error(`${scope.action} changed ${targetType} without an actor to audit.`);
  await insertAuditEntry(tx, {
    actorTokenId: scope.actor.tokenId,
    actorName: scope.actor.name,
    action: scope.action,
    targetType,
    targetId: auditTargetId(before, after),
    before: auditSnapshot(before),
    after: auditSnapshot(after),
  });
}
