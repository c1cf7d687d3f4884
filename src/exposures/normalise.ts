// The rules an exposure report must meet (SPEC.md section 5), checked item by item. The
// checks that need the database (feature, variant key) take the feature catalog's answer.
import { VARIANT_CONTROL } from '../engine/index.js';
import { ValidationError } from '../errors/app-errors.js';
import { isFeatureName } from '../features/feature-name.js';
import { IDENTIFIER_RULE, isValidIdentifier, UNSTORABLE_TEXT } from '../identities/identifier.js';
import type { CatalogFeature } from './catalog.js';
import { echo } from '../errors/echo.js';

export const MAX_BATCH_SIZE = 1000;
export const EVENT_ID_MAX_LENGTH = 200;
/** Clocks drift: a report up to 5 minutes ahead of the server is accepted as is. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
/**
 * Reports older than this are refused: no flagledger client existed then, so such a time is
 * a client bug (an unset clock, seconds taken for milliseconds), not a late event.
 */
export const EARLIEST_EXPOSED_AT = new Date('2000-01-01T00:00:00.000Z');
/**
 * PostgreSQL text cannot hold NUL, and a lone UTF-16 surrogate would be silently replaced on
 * the way in (the stored value would differ from the reported one): both are refused.
 */

export interface ExposureReport {
  feature: string;
  identifier: string;
  variantKey: string;
  exposedAt?: Date | null;
  eventId?: string | null;
}

/** A report that passed every check, resolved to database ids. */
export interface ValidExposure {
  featureId: number;
  featureName: string;
  /** Null for the control bucket. */
  optionId: number | null;
  variantKey: string;
  identifier: string;
  exposedAt: Date;
  eventId: string | null;
}

/** A feature name that cannot exist needs no lookup (and must not reach SQL, e.g. with NUL). */
export function isPossibleFeatureName(name: string): boolean {
  return isFeatureName(name);
}

/**
 * Checks one report in the order of its fields and returns it resolved, or the first
 * broken rule as a ValidationError whose path starts with `path`.
 */
export function validateReport(
  report: ExposureReport,
  feature: CatalogFeature | undefined,
  receivedAt: Date,
  path: (string | number)[],
): ValidExposure | ValidationError {
  if (!feature) {
    return new ValidationError('FEATURE_NOT_FOUND', `This project has no feature named "${echo(report.feature)}".`, [...path, 'feature']);
  }
  let optionId: number | null = null;
  if (report.variantKey !== VARIANT_CONTROL) {
    const id = feature.optionIdByKey.get(report.variantKey);
    if (id === undefined) {
      return new ValidationError(
        'UNKNOWN_VARIANT_KEY',
        `"${echo(report.variantKey)}" is not a variant key of feature "${feature.name}": send \`control\` or the key of one of its options.`,
        [...path, 'variantKey'],
      );
    }
    optionId = id;
  }
  const { identifier } = report;
  if (!isValidIdentifier(identifier)) {
    return new ValidationError(
      'INVALID_IDENTIFIER',
      IDENTIFIER_RULE,
      [...path, 'identifier'],
    );
  }
  const exposedAt = report.exposedAt ?? receivedAt;
  if (Number.isNaN(exposedAt.getTime()) || exposedAt.getTime() > receivedAt.getTime() + MAX_CLOCK_SKEW_MS || exposedAt < EARLIEST_EXPOSED_AT) {
    return new ValidationError(
      'INVALID_TIMESTAMP',
      `exposedAt must lie between ${EARLIEST_EXPOSED_AT.toISOString()} and 5 minutes after the server's clock (${receivedAt.toISOString()}).`,
      [...path, 'exposedAt'],
    );
  }
  const eventId = report.eventId ?? null;
  if (eventId !== null && (eventId.length < 1 || eventId.length > EVENT_ID_MAX_LENGTH || UNSTORABLE_TEXT.test(eventId))) {
    return new ValidationError(
      'INVALID_EVENT_ID',
      `An eventId is 1-${EVENT_ID_MAX_LENGTH} characters (no NUL, no unpaired surrogate).`,
      [...path, 'eventId'],
    );
  }
  return { featureId: feature.id, featureName: feature.name, optionId, variantKey: report.variantKey, identifier, exposedAt, eventId };
}
