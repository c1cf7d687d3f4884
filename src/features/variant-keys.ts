// The rules of variant keys (SPEC.md section 2), in one place. Every path that can write a
// key (createFeature's nested options, createMultivariateOption, updateMultivariateOption)
// calls checkVariantKeyWrites inside its feature's write transaction, and maps a violation
// of the database's unique index, the final guard, with the `duplicateFrom` it returns.
import { uniqueViolationFields } from '../db/unique-violation.js';
import type { Prisma } from '../generated/prisma/client.js';
import { VariantKeyError } from './errors.js';
import { echo } from '../errors/echo.js';

type Tx = Prisma.TransactionClient;
type Path = (string | number)[];

export const VARIANT_KEY_MAX_LENGTH = 100;
/** The key of the control bucket (SPEC.md section 3): no option may take it, in any case. */
export const CONTROL_VARIANT_KEY = 'control';
const VARIANT_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** The unique index on MultivariateOption(featureId, key); NULL keys never collide in it. */
const KEY_INDEX = 'MultivariateOption_featureId_key_key';

/**
 * Trims a key as given; blank becomes null (an option without a key). Throws
 * INVALID_VARIANT_KEY (format, 1-100 characters) or RESERVED_VARIANT_KEY (`control`).
 */
export function normaliseVariantKey(raw: string | null | undefined, path: Path): string | null {
  if (raw === null || raw === undefined) return null;
  const key = raw.trim();
  if (key === '') return null;
  if (key.length > VARIANT_KEY_MAX_LENGTH || !VARIANT_KEY_PATTERN.test(key)) {
    throw new VariantKeyError(
      'INVALID_VARIANT_KEY',
      `A variant key is 1-${VARIANT_KEY_MAX_LENGTH} characters of A-Z, a-z, 0-9, "_", "." and "-", starting with a letter or digit.`,
      echo(key),
      path,
    );
  }
  if (key.toLowerCase() === CONTROL_VARIANT_KEY) {
    throw new VariantKeyError('RESERVED_VARIANT_KEY', `"${key}" is reserved for the control bucket.`, key, path);
  }
  return key;
}

export interface VariantKeyWrite {
  /** The option being updated; absent when the write creates an option. */
  option?: { id: number; key: string | null };
  /** The key as the caller sent it; undefined leaves an existing option's key as it is. */
  raw: string | null | undefined;
  /** Input path of the key, for the error (e.g. ["options", 2, "key"]). */
  path: Path;
}

export interface CheckedVariantKeys {
  /** The key each write stores, in the order of the writes. */
  keys: (string | null)[];
  /** The typed error for a violation of the unique index by these writes, else undefined. */
  duplicateFrom(error: unknown): VariantKeyError | undefined;
}

/**
 * Validates the keys a write on one feature is about to store. Call it inside the feature's
 * write transaction, after the feature row is locked: then no other writer of the feature
 * can slip a key in between this check and the write (the unique index still guards).
 */
export async function checkVariantKeyWrites(tx: Tx, featureId: number, writes: VariantKeyWrite[]): Promise<CheckedVariantKeys> {
  const keys = writes.map((write) => (write.raw === undefined ? (write.option?.key ?? null) : normaliseVariantKey(write.raw, write.path)));

  // Two options of one input with the same key.
  const firstPath = new Map<string, Path>();
  writes.forEach((write, index) => {
    const key = keys[index];
    if (key === null) return;
    if (firstPath.has(key)) {
      throw new VariantKeyError('DUPLICATE_VARIANT_KEY', `The key "${echo(key)}" is given to more than one option.`, key, write.path);
    }
    firstPath.set(key, write.path);
  });

  // Once exposures were recorded under a key, attribution depends on it: it stays.
  for (const [index, write] of writes.entries()) {
    const previous = write.option?.key ?? null;
    if (previous !== null && keys[index] !== previous && (await variantKeyHasExposures(tx, featureId, previous))) {
      throw new VariantKeyError(
        'VARIANT_KEY_IN_USE',
        `Exposures were recorded under "${previous}": that key can no longer be changed or cleared.`,
        previous,
        write.path,
      );
    }
  }

  // Keys already on the feature, archived options included (their keys stay reserved).
  const changed = writes
    .map((write, index) => ({ write, key: keys[index] }))
    .filter(({ write, key }) => key !== null && key !== (write.option?.key ?? null));
  if (changed.length) {
    const taken = await tx.multivariateOption.findMany({
      where: { featureId, key: { in: changed.map(({ key }) => key!) } },
      select: { id: true, key: true, archivedAt: true },
    });
    for (const { write, key } of changed) {
      const holder = taken.find((option) => option.key === key && option.id !== write.option?.id);
      if (holder) {
        const archived = holder.archivedAt ? ' (an archived option: its key stays reserved)' : '';
        throw new VariantKeyError('DUPLICATE_VARIANT_KEY', `Another option of this feature has the key "${echo(key!)}"${archived}.`, key, write.path);
      }
    }
  }

  return {
    keys,
    duplicateFrom(error) {
      if (!isVariantKeyUniqueViolation(error)) return undefined;
      const written = changed.length === 1 ? changed[0] : undefined;
      return new VariantKeyError(
        'DUPLICATE_VARIANT_KEY',
        written ? `Another option of this feature has the key "${echo(written.key!)}".` : 'Another option of this feature has one of these keys.',
        written?.key ?? null,
        written?.write.path ?? writes[0]?.path.slice(0, 1) ?? [],
      );
    },
  };
}

/** Whether an error is a violation of the (featureId, key) unique index, as either driver adapter reports it. */
export function isVariantKeyUniqueViolation(error: unknown): boolean {
  const fields = uniqueViolationFields(error);
  if (!fields) return false;
  return fields.includes(KEY_INDEX) || (fields.includes('featureId') && fields.includes('key') && fields.length === 2);
}

/** Whether any exposure of the feature was recorded under this key. */
export async function variantKeyHasExposures(tx: Tx, featureId: number, key: string): Promise<boolean> {
  const exposure = await tx.exposure.findFirst({ where: { featureId, variantKey: key }, select: { id: true } });
  return exposure !== null;
}

/**
 * Whether an option has exposures, by reference or by its key: such an option is archived,
 * not deleted, so that its exposures keep their meaning and its key stays reserved.
 */
export async function optionHasExposures(tx: Tx, option: { id: number; featureId: number; key: string | null }): Promise<boolean> {
  const exposure = await tx.exposure.findFirst({
    where: {
      OR: [{ optionId: option.id }, ...(option.key !== null ? [{ featureId: option.featureId, variantKey: option.key }] : [])],
    },
    select: { id: true },
  });
  return exposure !== null;
}
