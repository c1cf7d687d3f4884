// First start, after the demo project: a RUNNING experiment on the demo's `checkout_button` in
// development with a few days of simulated traffic, so the results page has something to show.
// Everything goes through the services (experiment commands, evaluation's assignment, the
// exposure recorder), except one thing: the iteration is dated back to the start of the
// simulated traffic, since an exposure only belongs to an iteration running at its time.
import { createHash } from 'node:crypto';
import type { Services } from '../composition.js';
import { encodeGlobalId } from '../schema/global-id.js';
import type { ExposureReport } from '../exposures/normalise.js';

export const DEMO_EXPERIMENT_NAME = 'checkout button copy';
/** Simulated visitors, and the days their visits span (ending now). */
export const DEMO_VISITORS = 240;
export const DEMO_DAYS = 3;
const BATCH = 500;

export interface DemoExperiment {
  /** The experiment's global id (the results page is /experiments/<id>). */
  id: string;
  exposures: number;
}

/** A number in [0, 1) from a text: the same visitor gets the same times on every run. */
function unit(text: string): number {
  return createHash('md5').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * Creates and starts the demo experiment and records its simulated exposures. Call it right
 * after `seedIfEmpty` created the demo project; it assumes the demo is as seeded.
 */
export async function seedDemoExperiment(services: Services, now = new Date()): Promise<DemoExperiment> {
  const { prisma, experiments, exposures, assignments, configChanges } = services;
  const environment = await prisma.environment.findFirstOrThrow({
    where: { name: 'development', project: { name: 'Demo' } },
    select: { id: true, projectId: true },
  });
  const feature = await prisma.feature.findUniqueOrThrow({
    where: { projectId_name: { projectId: environment.projectId, name: 'checkout_button' } },
    select: { id: true },
  });
  const created = await experiments.createExperiment({
    environmentId: environment.id,
    feature: 'checkout_button',
    name: DEMO_EXPERIMENT_NAME,
    hypothesis: 'A more direct label ("Buy now", "Purchase") gets more people to check out than "Buy".',
  });
  const experimentId = created.value.id;
  const started = await experiments.startExperiment(experimentId);
  const span = DEMO_DAYS * 24 * 3600_000;
  const startedAt = new Date(now.getTime() - span);
  await prisma.experimentIteration.updateMany({ where: { experimentId, number: 1 }, data: { startedAt } });
  await configChanges.announce(started.environmentIds);

  // Each visitor arrives once in the window, sees the variant evaluation assigns it 1-3 times
  // over the following hours; one in eighty also reports another variant once (a stale cache
  // in a client): the page's conflicted identities.
  const reports: ExposureReport[] = [];
  const keys = ['control', 'variant_a', 'variant_b'];
  for (let n = 1; n <= DEMO_VISITORS; n++) {
    const identifier = `demo-visitor-${String(n).padStart(4, '0')}`;
    const assigned = (await assignments.assignedVariantKeys(environment.id, identifier, [feature.id])).get(feature.id) ?? 'control';
    // Arrivals pick up over the days (a launch), never later than now.
    const arrival = startedAt.getTime() + span * Math.sqrt((n - 1 + unit(`${identifier}:arrival`)) / DEMO_VISITORS);
    const visits = 1 + Math.floor(unit(`${identifier}:visits`) * 3);
    for (let visit = 0; visit < visits; visit++) {
      const exposedAt = Math.min(arrival + visit * 6 * 3600_000 * unit(`${identifier}:${visit}`), now.getTime() - 1000);
      const stale = n % 80 === 0 && visit === visits - 1 && visit > 0;
      const variantKey = stale ? keys[(keys.indexOf(assigned) + 1) % keys.length] : assigned;
      reports.push({ feature: 'checkout_button', identifier, variantKey, exposedAt: new Date(exposedAt), eventId: `demo:${identifier}:${visit}` });
    }
  }
  let recorded = 0;
  for (let i = 0; i < reports.length; i += BATCH) {
    const batch = await exposures.record({ environmentId: environment.id, projectId: environment.projectId }, reports.slice(i, i + BATCH));
    recorded += batch.accepted;
  }
  return { id: encodeGlobalId('Experiment', experimentId), exposures: recorded };
}
