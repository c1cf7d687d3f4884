// GraphQL operations for analytics (SPEC.md sections 4 and 6): the `exposures` connection
// and `experimentSummary`. Both need an ANALYTICS or ADMIN token. An unknown environment or
// feature is a GraphQL error with `extensions.code` `NOT_FOUND` / `FEATURE_NOT_FOUND` (these
// are queries: there is no result union to carry it), a bad cursor or `first` `INVALID_INPUT`.
import { queryFromInfo } from '@pothos/plugin-prisma';
import { AppError, toGraphQLError } from '../errors/app-errors.js';
import { EnvironmentType } from '../projects/graphql.js';
import { builder, numericId } from '../schema/builder.js';
import { invalidTimestamp, isValidTime } from '../schema/date-time.js';
import { ExposureType } from '../exposures/graphql/exposure.js';
import { encodeExposureCursor, readExposurePage } from './exposures.js';
import { type ExperimentSummary, experimentSummary, type VariantSummary } from './summary.js';

const analyticsScope = { analytics: true } as const;

async function asQueryErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof AppError) throw toGraphQLError(error);
    throw error;
  }
}

/** `from` and `to` must be valid timestamps (the DateTime scalar lets invalid strings through). */
function checkWindow(args: { from?: Date | null; to?: Date | null }): void {
  if (args.from && !isValidTime(args.from)) throw invalidTimestamp('from');
  if (args.to && !isValidTime(args.to)) throw invalidTimestamp('to');
}

const ExposureConnection = builder.connectionObject(
  { type: ExposureType, name: 'ExposureConnection' },
  { name: 'ExposureEdge' },
);

const VariantSummaryType = builder.objectRef<VariantSummary>('VariantSummary').implement({
  description: 'One variant key of an experiment: what was served, and to how many identities first.',
  fields: (t) => ({
    variantKey: t.exposeString('variantKey', { description: 'An option key of the feature, or `control`.' }),
    exposures: t.exposeInt('exposures', { description: 'Exposures recorded under this key in the window (by `exposedAt`).' }),
    identities: t.exposeInt('identities', {
      description: 'Identities whose first exposure was this key, first exposed in the window (by `firstExposedAt`).',
    }),
    observedShare: t.exposeFloat('observedShare', { description: '`identities / totalIdentities` (0 when there are none).' }),
    expectedShare: t.exposeFloat('expectedShare', {
      description:
        "Share of all traffic this variant gets from the feature state's current weights in the environment (effective weight / 100), " +
        "not a segment override's own weights: identities served under those count in `identities` like any other split, so " +
        'with such overrides live the shares (and the SRM test) describe the whole traffic only approximately. ' +
        '`control` gets the rest; archived options and keys no option has get 0.',
    }),
    live: t.exposeBoolean('live', { description: 'A live option (or `control`): false for archived options and unknown keys.' }),
  }),
});

const ExperimentSummaryType = builder.objectRef<ExperimentSummary>('ExperimentSummary').implement({
  description: 'Per-variant counts of a multivariate feature in one environment, with a sample-ratio-mismatch test.',
  fields: (t) => ({
    feature: t.exposeString('feature'),
    from: t.expose('from', { type: 'DateTime', nullable: true, description: 'Inclusive start of the window, if any.' }),
    to: t.expose('to', { type: 'DateTime', nullable: true, description: 'Exclusive end of the window, if any.' }),
    variants: t.field({
      type: [VariantSummaryType],
      description: '`control` first, then every option key by priority (archived ones too), then any other key with exposures.',
      resolve: (summary) => summary.variants,
    }),
    totalExposures: t.exposeInt('totalExposures'),
    totalIdentities: t.exposeInt('totalIdentities', { description: 'Identities first exposed in the window.' }),
    conflictedIdentities: t.exposeInt('conflictedIdentities', {
      description: 'Of those, identities exposed to more than one variant key (ever).',
    }),
    srmChiSquare: t.exposeFloat('srmChiSquare', { nullable: true, description: 'The chi-square statistic behind `srmPValue`.' }),
    srmPValue: t.exposeFloat('srmPValue', {
      nullable: true,
      description:
        'Sample ratio mismatch: p-value of a chi-square goodness-of-fit test of `identities` against `expectedShare`, ' +
        'over the variants with an expected share above 0 (shares renormalised over them). Small values (< 0.001) mean ' +
        'the split is broken. Null with fewer than two such variants or no identities in them.',
    }),
  }),
});

builder.queryFields((t) => ({
  exposures: t.field({
    type: ExposureConnection,
    authScopes: analyticsScope,
    description:
      'The exposure log of an environment in id order (ids only grow). `first` defaults to 100 and is capped at 1000. ' +
      'Time bounds apply to `exposedAt` (`from` inclusive, `to` exclusive). A page never reaches past exposures still ' +
      'being written, so a job that stores `endCursor` and resumes with `after` sees every exposure exactly once.',
    args: {
      environmentId: t.arg.globalID({ required: true, for: [EnvironmentType] }),
      feature: t.arg.string({ description: 'Feature name.' }),
      variantKey: t.arg.string(),
      identifier: t.arg.string(),
      from: t.arg({ type: 'DateTime' }),
      to: t.arg({ type: 'DateTime' }),
      first: t.arg.int(),
      after: t.arg.string({ description: 'A cursor of this connection, or a numeric exposure id (`databaseId`).' }),
    },
    resolve: (_parent, args, context, info) =>
      asQueryErrors(async () => {
        checkWindow(args);
        const query = queryFromInfo({ context, info, typeName: 'Exposure', path: ['edges', 'node'] });
        const page = await readExposurePage(
          context.prisma,
          {
            environmentId: numericId(args.environmentId.id),
            feature: args.feature,
            variantKey: args.variantKey,
            identifier: args.identifier,
            from: args.from,
            to: args.to,
          },
          { first: args.first, after: args.after },
          context.services.horizon,
          query as never,
        );
        const edges = page.rows.map((row) => ({ cursor: encodeExposureCursor(row.id), node: row }));
        return {
          edges,
          pageInfo: {
            hasNextPage: page.hasNextPage,
            hasPreviousPage: false,
            startCursor: edges[0]?.cursor ?? null,
            endCursor: edges.at(-1)?.cursor ?? null,
          },
        };
      }),
  }),
  experimentSummary: t.field({
    type: ExperimentSummaryType,
    authScopes: analyticsScope,
    description:
      'Per-variant exposures and identities of a feature in an environment, against the expected split, with an SRM test. ' +
      'The window (`from` inclusive, `to` exclusive) applies to `exposedAt` for exposures and to `firstExposedAt` for identities.',
    args: {
      environmentId: t.arg.globalID({ required: true, for: [EnvironmentType] }),
      feature: t.arg.string({ required: true, description: 'Feature name.' }),
      from: t.arg({ type: 'DateTime' }),
      to: t.arg({ type: 'DateTime' }),
    },
    resolve: (_parent, args, context) =>
      asQueryErrors(() => {
        checkWindow(args);
        return experimentSummary(context.prisma, {
          environmentId: numericId(args.environmentId.id),
          feature: args.feature,
          from: args.from,
          to: args.to,
        });
      }),
  }),
}));
