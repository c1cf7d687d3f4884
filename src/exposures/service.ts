// Recording exposures: validate each report on its own (normalise.ts), compute matchesAssignment
// with evaluation's assignments, write a request's accepted reports atomically in one statement (store.ts;
// possibly together with other requests'), and answer every report in order (ACCEPTED,
// DUPLICATE with the original exposure, or REJECTED).
import type { EnvironmentRef } from '../auth/environment-keys.js';
import { sqlState } from '../db/sql-state.js';
import { AppError, ValidationError } from '../errors/app-errors.js';
import type { Assignments, ServedVariant, ServedVariantSink } from '../evaluation/service.js';
import type { Exposure, PrismaClient } from '../generated/prisma/client.js';
import type { FeatureCatalog } from './catalog.js';
import { type ExposureReport, isPossibleFeatureName, MAX_BATCH_SIZE, type ValidExposure, validateReport } from './normalise.js';
import { type ExposureRow, type ExposureWriter, exposuresByEventId } from './store.js';

export type ExposureStatus = 'ACCEPTED' | 'DUPLICATE' | 'REJECTED';

export interface ExposureResult {
  index: number;
  status: ExposureStatus;
  exposure: Exposure | null;
  error: ValidationError | null;
}

export interface BatchResult {
  results: ExposureResult[];
  accepted: number;
  duplicates: number;
  rejected: number;
}

/** A batch over the limit: refused whole, nothing written. */
export class BatchTooLargeError extends AppError {
  declare readonly code: 'BATCH_TOO_LARGE';
  declare readonly path: string[];
  constructor(
    readonly limit: number,
    readonly size: number,
  ) {
    super('BATCH_TOO_LARGE', `A batch holds at most ${limit} exposures; this one has ${size}. Nothing was recorded: split it.`, ['exposures']);
  }
}

export interface ExposureService extends ServedVariantSink {
  /**
   * Client reports (`recordExposures`, or `recordExposure` as a batch of one with `single`:
   * error paths then name the input's own fields) for the caller's environment.
   */
  record(environment: EnvironmentRef, reports: ExposureReport[], single?: boolean): Promise<BatchResult>;
}

/**
 * Error paths: a single report's name the input's own fields, a batch's the item. Functions of
 * the module, not a closure per request: tsx keeps function names, a property definition per
 * closure made (0.6% of a single report's CPU in a profile).
 */
const singlePath = (): (string | number)[] => [];
const batchPath = (index: number): (string | number)[] => ['exposures', index];

interface ExposureDeps {
  prisma: PrismaClient;
  /** Cleared by the composition root on every config change. */
  catalog: FeatureCatalog;
  writer: ExposureWriter;
  assignments: Assignments;
}

export function createExposureService(deps: ExposureDeps): ExposureService {
  return new ExposureRecorder(deps);
}

class ExposureRecorder implements ExposureService {
  private readonly prisma: PrismaClient;
  private readonly catalog: FeatureCatalog;
  private readonly writer: ExposureWriter;
  private readonly assignments: Assignments;

  constructor(deps: ExposureDeps) {
    this.prisma = deps.prisma;
    this.catalog = deps.catalog;
    this.writer = deps.writer;
    this.assignments = deps.assignments;
  }

  /**
   * Client reports (`recordExposures`, or `recordExposure` as a batch of one with `single`:
   * error paths then name the input's own fields) for the caller's environment.
   */
  async record(environment: EnvironmentRef, reports: ExposureReport[], single = false): Promise<BatchResult> {
    if (reports.length > MAX_BATCH_SIZE) throw new BatchTooLargeError(MAX_BATCH_SIZE, reports.length);
    const pathOf = single ? singlePath : batchPath;
    try {
      return await this.recordOnce(environment, reports, pathOf);
    } catch (error) {
      // 23503: a foreign key refused the batch, i.e. an option (or feature) named by a cached
      // key was deleted meanwhile. Nothing was written: validate again against the database.
      if (sqlState(error) !== '23503') throw error;
      this.catalog.clear();
      return this.recordOnce(environment, reports, pathOf);
    }
  }

  /**
   * SERVER exposures for what `flags(recordExposures: true)` served: one write, no eventId,
   * exposedAt = now, and matchesAssignment true by construction.
   */
  async recordServedVariants(environment: EnvironmentRef, identity: { id: number; identifier: string }, served: ServedVariant[]): Promise<void> {
    if (served.length === 0) return;
    const receivedAt = new Date();
    const rows: ExposureRow[] = served.map((variant) => ({
      environmentId: environment.environmentId,
      featureId: variant.featureId,
      optionId: variant.optionId,
      variantKey: variant.variantKey,
      identifier: identity.identifier,
      exposedAt: receivedAt,
      receivedAt,
      eventId: null,
      source: 'SERVER',
      matchesAssignment: true,
    }));
    try {
      await this.writer.write(rows);
    } catch (error) {
      // 23503: evaluation served a key that was changed (or an option that was deleted) since
      // its config was read. Such a key names no option now: record only what still does.
      if (sqlState(error) !== '23503') throw error;
      const optionIds = rows.flatMap((row) => (row.optionId === null ? [] : [row.optionId]));
      const options = await this.prisma.multivariateOption.findMany({
        where: { id: { in: optionIds } },
        select: { id: true, key: true },
      });
      const keyOf = new Map(options.map((option) => [option.id, option.key]));
      const current = rows.filter((row) => row.optionId === null || keyOf.get(row.optionId) === row.variantKey);
      if (current.length > 0) await this.writer.write(current);
    }
  }

  private async recordOnce(
    environment: EnvironmentRef,
    reports: ExposureReport[],
    pathOf: (index: number) => (string | number)[],
  ): Promise<BatchResult> {
    const receivedAt = new Date();
    const { environmentId } = environment;

    // What validation needs from the database, for the whole batch at once.
    const keysByName = new Map<string, Set<string>>();
    for (const report of reports) {
      if (!isPossibleFeatureName(report.feature)) continue;
      let keys = keysByName.get(report.feature);
      if (!keys) keysByName.set(report.feature, (keys = new Set()));
      keys.add(report.variantKey);
    }
    const features = await this.catalog.resolve(environment.projectId, keysByName);

    const results: ExposureResult[] = new Array(reports.length);
    const valid: { index: number; exposure: ValidExposure }[] = [];
    reports.forEach((report, index) => {
      const checked = validateReport(report, features.get(report.feature), receivedAt, pathOf(index));
      if (checked instanceof ValidationError) results[index] = { index, status: 'REJECTED', exposure: null, error: checked };
      else valid.push({ index, exposure: checked });
    });

    // A repeated eventId within the batch is a duplicate of its first occurrence.
    const firstWithEventId = new Map<string, number>();
    const toWrite: { index: number; exposure: ValidExposure }[] = [];
    const repeats: { index: number; of: number }[] = [];
    for (const item of valid) {
      const { eventId } = item.exposure;
      if (eventId !== null) {
        const first = firstWithEventId.get(eventId);
        if (first !== undefined) {
          repeats.push({ index: item.index, of: first });
          continue;
        }
        firstWithEventId.set(eventId, item.index);
      }
      toWrite.push(item);
    }

    const matches = await this.matchesAssignment(environmentId, toWrite.map((item) => item.exposure));
    const rows: ExposureRow[] = toWrite.map(({ exposure }, i) => ({
      environmentId,
      featureId: exposure.featureId,
      optionId: exposure.optionId,
      variantKey: exposure.variantKey,
      identifier: exposure.identifier,
      exposedAt: exposure.exposedAt,
      receivedAt,
      eventId: exposure.eventId,
      source: 'CLIENT',
      matchesAssignment: matches[i],
    }));
    const written = await this.writer.write(rows);
    const duplicateEventIds = written.flatMap((w) => (w.duplicateOf === undefined ? [] : [w.duplicateOf]));
    const originals = await exposuresByEventId(this.prisma, environmentId, duplicateEventIds);

    toWrite.forEach(({ index }, i) => {
      const { exposure, duplicateOf } = written[i];
      if (exposure) {
        results[index] = { index, status: 'ACCEPTED', exposure, error: null };
        return;
      }
      const original = originals.get(duplicateOf!);
      // The conflicting row committed before ON CONFLICT skipped, and exposures are never deleted.
      if (!original) throw new Error(`exposure with eventId ${JSON.stringify(duplicateOf)} conflicted but cannot be read`);
      results[index] = { index, status: 'DUPLICATE', exposure: original, error: null };
    });
    for (const { index, of } of repeats) results[index] = { index, status: 'DUPLICATE', exposure: results[of].exposure, error: null };

    let accepted = 0;
    let duplicates = 0;
    for (const result of results) {
      if (result.status === 'ACCEPTED') accepted++;
      else if (result.status === 'DUPLICATE') duplicates++;
    }
    return { results, accepted, duplicates, rejected: results.length - accepted - duplicates };
  }

  /** For each exposure: is its variant key the one evaluation assigns its identity now? */
  private async matchesAssignment(environmentId: number, exposures: ValidExposure[]): Promise<boolean[]> {
    const featureIdsByIdentifier = new Map<string, Set<number>>();
    for (const { identifier, featureId } of exposures) {
      let ids = featureIdsByIdentifier.get(identifier);
      if (!ids) featureIdsByIdentifier.set(identifier, (ids = new Set()));
      ids.add(featureId);
    }
    const assignedByIdentifier = new Map<string, Map<number, string | null>>();
    await Promise.all(
      [...featureIdsByIdentifier].map(async ([identifier, featureIds]) => {
        assignedByIdentifier.set(identifier, await this.assignments.assignedVariantKeys(environmentId, identifier, [...featureIds]));
      }),
    );
    return exposures.map(({ identifier, featureId, variantKey }) => assignedByIdentifier.get(identifier)!.get(featureId) === variantKey);
  }
}
