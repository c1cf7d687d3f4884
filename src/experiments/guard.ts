// The experiment lock (SPEC.md section 9): while an experiment runs, writes that change who
// gets what of its feature in its environment are refused. Every such write locks the feature's
// row first, and so do startExperiment and stopExperiment: a check made after that lock holds
// until the write commits. Features and targeting call this inside their transactions.
import type { Prisma } from '../generated/prisma/client.js';
import { ExperimentRunningError } from './errors.js';

type Tx = Prisma.TransactionClient;

/**
 * EXPERIMENT_RUNNING when the feature has a RUNNING experiment in the environment (in any
 * environment when `environmentId` is null). Call it after locking the feature's row.
 */
export async function assertNoRunningExperiment(
  tx: Tx,
  featureId: number,
  environmentId: number | null,
  path: (string | number)[] = [],
): Promise<void> {
  const running = await tx.experiment.findFirst({
    where: { featureId, status: 'RUNNING', ...(environmentId === null ? {} : { environmentId }) },
    select: { id: true, name: true },
    orderBy: { id: 'asc' },
  });
  if (running) throw new ExperimentRunningError(running, path);
}
