// Client queries `flags` and `flag`, and the subscription `flagsChanged`: evaluation of the
// caller's environment (X-Environment-Key).
import { encodeGlobalID } from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import type { Context } from '../context.js';
import { AppError, toGraphQLError } from '../errors/app-errors.js';
import { builder, checkOperationComplexity } from '../schema/builder.js';
import type { RunningExperiment } from './config.js';
import type { LiveFlagsEvent } from './live.js';
import type { EvaluatedFlag, EvaluationService } from './service.js';

const FlagExperimentType = builder.objectRef<RunningExperiment>('FlagExperiment').implement({
  description: 'The experiment running on a flag in this environment.',
  fields: (t) => ({
    id: t.id({ resolve: (experiment) => encodeGlobalID('Experiment', experiment.id) }),
    name: t.exposeString('name'),
    iteration: t.exposeInt('iteration'),
  }),
});

export const FlagType = builder.objectRef<EvaluatedFlag>('Flag').implement({
  description: "A feature's evaluation for one identity (or for none) in the caller's environment.",
  fields: (t) => ({
    name: t.exposeString('name'),
    enabled: t.exposeBoolean('enabled'),
    value: t.expose('value', { type: 'JSON', nullable: true, description: 'The winning variant\'s value, else the environment\'s value.' }),
    variant: t.exposeString('variant', {
      nullable: true,
      description: 'The variant key served: an option key, `control` (no option won), or null (no identity, no options, or an option without a key).',
    }),
    reason: t.exposeString('reason', {
      description:
        "Flagsmith's reason: `IDENTITY_OVERRIDE`, `TARGETING_MATCH; segment=<name>` (a segment override), `SPLIT; weight=<weight>` (a variant won), or `DEFAULT`.",
    }),
    segment: t.string({
      nullable: true,
      description: 'The name of the segment whose override decided the flag; null when none did.',
      resolve: (flag) => {
        const segment = (flag.metadata as { segment?: unknown } | undefined)?.segment;
        return typeof segment === 'string' ? segment : null;
      },
    }),
    experiment: t.field({
      type: FlagExperimentType,
      nullable: true,
      description: 'The experiment running on the feature here, with its iteration; null when none runs.',
      resolve: (flag) => flag.experiment ?? null,
    }),
  }),
});

function evaluationOf(context: Context): { service: EvaluationService; environment: Extract<Context['caller'], { kind: 'client' }> } {
  const service = context.services.evaluation;
  if (context.caller.kind !== 'client') {
    // authScopes already refuse everyone but clients; this keeps the types honest.
    throw new GraphQLError('These credentials do not allow this operation.', { extensions: { code: 'FORBIDDEN' } });
  }
  return { service, environment: context.caller };
}

/** `recordExposures` writes, and a GET must not: a link or an <img> could make it. */
function refuseWriteByGet(context: Context, recordExposures: boolean | null | undefined): void {
  if (recordExposures && context.readOnly) {
    throw new GraphQLError('recordExposures: true writes: send it with POST.', {
      extensions: { code: 'METHOD_NOT_ALLOWED', http: { status: 405, headers: { allow: 'POST' } } },
    });
  }
}

builder.queryFields((t) => ({
  flags: t.field({
    type: [FlagType],
    authScopes: { client: true },
    description:
      "Every live flag of the caller's environment, ordered by name. With an `identifier`, multivariate flags are split for that identity (created on first sight; `traits` are merged into its stored traits, null deletes one).",
    args: {
      identifier: t.arg.string({ required: false }),
      traits: t.arg({ type: 'JSON', required: false }),
      recordExposures: t.arg.boolean({
        required: false,
        defaultValue: false,
        description: 'Record a SERVER exposure for each multivariate flag served with a variant key.',
      }),
    },
    resolve: (_parent, args, context) => {
      refuseWriteByGet(context, args.recordExposures);
      const { service, environment } = evaluationOf(context);
      return service.evaluate(environment, args);
    },
  }),
  flag: t.field({
    type: FlagType,
    nullable: true,
    authScopes: { client: true },
    description: "One flag of the caller's environment by feature name; null when it has no such live feature.",
    args: {
      name: t.arg.string({ required: true }),
      identifier: t.arg.string({ required: false }),
      traits: t.arg({ type: 'JSON', required: false }),
      recordExposures: t.arg.boolean({ required: false, defaultValue: false }),
    },
    resolve: async (_parent, args, context) => {
      refuseWriteByGet(context, args.recordExposures);
      const { service, environment } = evaluationOf(context);
      const [flag] = await service.evaluate(environment, args, args.name);
      return flag ?? null;
    },
  }),
}));

builder.subscriptionFields((t) => ({
  flagsChanged: t.field({
    type: [FlagType],
    authScopes: { client: true },
    description:
      "Live flags over Server-Sent Events: every live flag of the caller's environment as `flags` answers them, at once, then again whenever a change of the environment's config (made through any server process) changes them. At most MAX_SUBSCRIPTIONS per server process (`TOO_MANY_SUBSCRIPTIONS` beyond).",
    args: {
      identifier: t.arg.string({ required: false }),
      traits: t.arg({ type: 'JSON', required: false, description: 'Merged into the stored traits once, when the subscription starts.' }),
    },
    subscribe: async (_parent, args, context, info) => {
      checkOperationComplexity(context, info);
      const { environment } = evaluationOf(context);
      try {
        return await context.services.liveFlags.watch(environment, args);
      } catch (error) {
        throw error instanceof AppError ? toGraphQLError(error) : error;
      }
    },
    resolve: (event: LiveFlagsEvent) => {
      if (event instanceof Error) throw event;
      return event;
    },
  }),
}));
