// GraphQL operations of the exposure log: `recordExposure` and `recordExposures` (SPEC.md
// section 5), for clients (`X-Environment-Key`) in their own environment.
import { brandWithType } from '@pothos/core';
import { wrapErrorIfMatches } from '@pothos/plugin-errors';
import { ExposureType } from './exposure.js';
import type { EnvironmentRef } from '../../auth/environment-keys.js';
import type { Context } from '../../context.js';
import { ValidationError } from '../../errors/app-errors.js';
import { ErrorInterface } from '../../schema/errors.js';
import type { Exposure } from '../../generated/prisma/client.js';
import { builder } from '../../schema/builder.js';
import { BatchTooLargeError, type ExposureResult, type ExposureStatus } from '../service.js';
import { IDENTIFIER_MAX_BYTES, IDENTIFIER_MAX_LENGTH } from '../../identities/identifier.js';
import { EVENT_ID_MAX_LENGTH, type ExposureReport, MAX_BATCH_SIZE } from '../normalise.js';
import { CHECKS_OWN_TEXT } from '../../schema/extensions.js';

const ExposureStatusEnum = builder.enumType('ExposureStatus', {
  description: 'What became of one reported exposure.',
  values: {
    ACCEPTED: { description: 'Recorded now.' },
    DUPLICATE: { description: 'Its eventId was already recorded: `exposure` is the original, nothing was counted again.' },
    REJECTED: { description: 'Broke a rule (see `error`); nothing was recorded for it.' },
  } as const satisfies Record<ExposureStatus, unknown>,
});

const exposureInputFields = (t: Parameters<Parameters<typeof builder.inputType>[1]['fields']>[0]) => ({
  feature: t.string({ required: true, description: "The feature's name in the caller's project." }),
  identifier: t.string({
    required: true,
    description: `The identity that was served (1-${IDENTIFIER_MAX_LENGTH} characters, at most ${IDENTIFIER_MAX_BYTES} bytes of UTF-8), created on first sight.`,
  }),
  variantKey: t.string({ required: true, description: 'The variant key that was shown: `control` or a key of one of the feature\'s options.' }),
  exposedAt: t.field({
    type: 'DateTime',
    required: false,
    description:
      "When it was shown; default now. At most 5 minutes ahead of the server's clock, and not before 2000; " +
      'otherwise, or when it is no valid date-time, the item is refused with INVALID_TIMESTAMP.',
  }),
  eventId: t.string({
    required: false,
    description: `An idempotency key of 1-${EVENT_ID_MAX_LENGTH} characters, unique per environment: a repeat (a retry) returns the original exposure as a duplicate.`,
  }),
});

const ExposureInput = builder.inputType('ExposureInput', {
  description: 'One exposure: which variant of which feature an identity was shown.',
  // validateReport checks every string field, so a bad item is REJECTED alone.
  extensions: { [CHECKS_OWN_TEXT]: true },
  fields: exposureInputFields,
});

const RecordExposureInput = builder.inputType('RecordExposureInput', {
  description: 'One exposure: which variant of which feature an identity was shown (the fields of ExposureInput).',
  extensions: { [CHECKS_OWN_TEXT]: true },
  fields: exposureInputFields,
});

const RecordExposuresInput = builder.inputType('RecordExposuresInput', {
  fields: (t) => ({
    exposures: t.field({ type: [ExposureInput], required: true, description: `At most ${MAX_BATCH_SIZE}, each answered on its own.` }),
  }),
});

const RecordExposurePayload = builder.objectRef<{ exposure: Exposure; duplicate: boolean }>('RecordExposurePayload').implement({
  fields: (t) => ({
    exposure: t.field({ type: ExposureType, resolve: (payload) => payload.exposure, description: 'The recorded exposure (the original one for a duplicate).' }),
    duplicate: t.exposeBoolean('duplicate', { description: 'True when the eventId had been recorded before: nothing was counted again.' }),
  }),
});

const ExposureResultType = builder.objectRef<ExposureResult>('ExposureResult').implement({
  description: 'The answer to one item of `recordExposures`, in input order.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'Position of the item in the input (from 0).' }),
    status: t.field({ type: ExposureStatusEnum, resolve: (result) => result.status }),
    exposure: t.field({
      type: ExposureType,
      nullable: true,
      description: 'The recorded exposure (for DUPLICATE, the original); null when REJECTED.',
      resolve: (result) => result.exposure,
    }),
    error: t.field({
      type: ErrorInterface,
      nullable: true,
      description: 'Why the item was REJECTED.',
      resolve: (result) => (result.error ? errorAsValue(result.error) : null),
    }),
  }),
});

const RecordExposuresPayload = builder
  .objectRef<{ results: ExposureResult[]; accepted: number; duplicates: number; rejected: number }>('RecordExposuresPayload')
  .implement({
    fields: (t) => ({
      results: t.field({ type: [ExposureResultType], resolve: (payload) => payload.results, description: 'One per input item, in order.' }),
      accepted: t.exposeInt('accepted'),
      duplicates: t.exposeInt('duplicates'),
      rejected: t.exposeInt('rejected'),
    }),
  });

builder.objectType(BatchTooLargeError, {
  name: 'BatchTooLargeError',
  description: `More than ${MAX_BATCH_SIZE} exposures in one request: nothing was recorded.`,
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof BatchTooLargeError,
  fields: (t) => ({
    limit: t.exposeInt('limit', { description: 'The most exposures one request may hold.' }),
    size: t.exposeInt('size', { description: 'How many this request held.' }),
    path: t.stringList({ resolve: (error) => error.path }),
  }),
});

/**
 * GraphQL executors take a returned Error for a failure of the field itself. The errors
 * plugin's wrapper (as for mutation result unions) hides that it is an Error until its type's
 * isTypeOf unwraps it, and the brand names that type up front: resolving the interface must not
 * unwrap it before the executor has checked the value.
 */
function errorAsValue(error: ValidationError): ValidationError {
  // The same brand as the wrapper answers: the class is the type's ref (builder.objectType(ValidationError)).
  brandWithType(error, ValidationError as never);
  return wrapErrorIfMatches(error, [ValidationError]) as ValidationError;
}

function callerEnvironment(context: Context): EnvironmentRef {
  // authScopes { client: true } let only clients through.
  if (context.caller.kind !== 'client') throw new Error('recordExposure(s) reached without a client caller');
  const { environmentId, projectId } = context.caller;
  return { environmentId, projectId };
}

function report(input: ExposureReport): ExposureReport {
  return { feature: input.feature, identifier: input.identifier, variantKey: input.variantKey, exposedAt: input.exposedAt, eventId: input.eventId };
}

builder.mutationFields((t) => ({
  recordExposure: t.field({
    type: RecordExposurePayload,
    authScopes: { client: true },
    description:
      'Records that an identity was shown a variant (client key: `X-Environment-Key`). With an `eventId`, safe to retry: ' +
      'a repeat answers the original exposure with `duplicate: true`.',
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: RecordExposureInput, required: true }) },
    resolve: async (_parent, { input }, context) => {
      const { results } = await context.services.exposures.record(callerEnvironment(context), [report(input)], true);
      const [result] = results;
      if (result.error) throw result.error;
      return { exposure: result.exposure!, duplicate: result.status === 'DUPLICATE' };
    },
  }),
  recordExposures: t.field({
    type: RecordExposuresPayload,
    authScopes: { client: true },
    description:
      `Records up to ${MAX_BATCH_SIZE} exposures in one transaction; each item is validated on its own and answered in order ` +
      '(ACCEPTED, DUPLICATE or REJECTED). Over the limit: BatchTooLargeError, nothing recorded.',
    errors: { types: [BatchTooLargeError] },
    args: { input: t.arg({ type: RecordExposuresInput, required: true }) },
    resolve: (_parent, { input }, context) =>
      context.services.exposures.record(callerEnvironment(context), input.exposures.map(report)),
  }),
}));
