// Pure rules of the audit log: what of a row an entry keeps.

/** Fields never copied into the log: secrets and what derives from them. */
const SECRET_FIELDS = new Set(['tokenHash']);

export type AuditJson = null | boolean | number | string | AuditJson[] | { [key: string]: AuditJson };

/**
 * A row as the log keeps it: plain JSON (dates as ISO-8601 text, BigInts as decimal text),
 * without secret fields at any depth; undefined fields are left out. null stays null.
 */
export function auditSnapshot(row: unknown): AuditJson {
  if (row === null || row === undefined) return null;
  return JSON.parse(
    JSON.stringify(row, (key, value: unknown) => {
      if (SECRET_FIELDS.has(key)) return undefined;
      return typeof value === 'bigint' ? value.toString() : value;
    }),
  ) as AuditJson;
}

/** The id of the row an entry is about: the row after the change, else before it. */
export function auditTargetId(before: unknown, after: unknown): number {
  const row = (after ?? before) as { id?: unknown } | null;
  const id = row?.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new Error('An audited change needs a row with an integer id.');
  return id;
}
