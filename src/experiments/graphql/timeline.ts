// Experiment.timeline: an iteration's exposures and new identities per variant key per time
// bucket, for charts (the results page at /experiments/<id>). Same readers as results.
import type { Context } from '../../context.js';
import { AppError, toGraphQLError } from '../../errors/app-errors.js';
import { builder } from '../../schema/builder.js';
import { type ExperimentTimeline, TIMELINE_BUCKETS, TIMELINE_MAX_BUCKETS, type TimelineVariant } from '../timeline.js';
import { ExperimentType } from './experiment.js';

const TimelineBucketEnum = builder.enumType('TimelineBucket', {
  description: 'A time bucket of a timeline, in UTC; weeks start on Monday.',
  values: TIMELINE_BUCKETS,
});

const TimelineVariantType = builder.objectRef<TimelineVariant>('ExperimentTimelineVariant').implement({
  description: "One variant key's counts, one per bucket, aligned with the timeline's starts.",
  fields: (t) => ({
    key: t.exposeString('key'),
    exposures: t.exposeIntList('exposures', { description: 'Exposures whose exposedAt falls in the bucket.' }),
    newIdentities: t.exposeIntList('newIdentities', {
      description: "Identities whose first exposure in the iteration falls in the bucket, under that exposure's key (summed: results' identities).",
    }),
  }),
});

const ExperimentTimelineType = builder.objectRef<ExperimentTimeline>('ExperimentTimeline').implement({
  description: "One iteration's counts over time: every bucket from its start to its end (or now), zeros included.",
  fields: (t) => ({
    iteration: t.exposeInt('iteration'),
    bucket: t.field({ type: TimelineBucketEnum, resolve: (timeline) => timeline.bucket }),
    starts: t.field({ type: ['DateTime'], description: 'The start of every bucket, oldest first.', resolve: (timeline) => timeline.starts }),
    variants: t.field({
      type: [TimelineVariantType],
      description: "The allocation's keys in its order (control included), then any other key reported.",
      resolve: (timeline) => timeline.variants,
    }),
  }),
});

builder.prismaObjectField(ExperimentType, 'timeline', (t) =>
  t.field({
    type: ExperimentTimelineType,
    nullable: true,
    authScopes: { $any: { admin: true, analytics: true } },
    description:
      `Exposures and new identities per variant key per bucket of one iteration (default: the latest); null when there is no such iteration. ` +
      `At most ${TIMELINE_MAX_BUCKETS} buckets: without \`bucket\`, the finest that fits; a bucket that would need more is INVALID_INPUT.`,
    args: { iteration: t.arg.int(), bucket: t.arg({ type: TimelineBucketEnum }) },
    resolve: async (experiment, args, context: Context) => {
      try {
        return await context.services.experiments.timeline(experiment.id, args.iteration ?? null, args.bucket ?? null);
      } catch (error) {
        throw error instanceof AppError ? toGraphQLError(error) : error;
      }
    },
  }),
);
