// What a database error is, however it reaches us (Prisma's codes through either driver
// adapter, or PostgreSQL's SQLSTATE from raw SQL): the one classifier every domain uses.

/** The SQLSTATE of a database error as Prisma's driver adapters report it, if any. */
export function sqlState(error: unknown): string | undefined {
  for (let e = error as Record<string, unknown> | undefined, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const cause = (e.meta as { driverAdapterError?: { cause?: { originalCode?: unknown } } } | undefined)?.driverAdapterError?.cause;
    if (typeof cause?.originalCode === 'string') return cause.originalCode;
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
    e = e.cause as Record<string, unknown> | undefined;
  }
  return undefined;
}

/** The fields of a unique-constraint violation (P2002 or 23505), else undefined. */
export function uniqueViolationFields(error: unknown): string[] | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; meta?: Record<string, unknown>; constraint?: unknown; cause?: unknown };
  if (e.code === 'P2002') {
    const meta = e.meta ?? {};
    const target = meta.target;
    if (Array.isArray(target)) return target.map(String);
    if (typeof target === 'string') return [target];
    const cause = (meta.driverAdapterError as { cause?: { constraint?: { fields?: string[]; index?: string } } } | undefined)
      ?.cause;
    if (cause?.constraint?.fields) return cause.constraint.fields.map((f) => f.replace(/"/g, ''));
    if (cause?.constraint?.index) return [cause.constraint.index];
    return [];
  }
  if (e.code === '23505') return typeof e.constraint === 'string' ? [e.constraint] : [];
  if (e.cause) return uniqueViolationFields(e.cause);
  return undefined;
}

export function isUniqueViolation(error: unknown, field?: string): boolean {
  const fields = uniqueViolationFields(error);
  if (!fields) return false;
  if (!field) return true;
  return fields.length === 0 || fields.some((f) => f === field || f.includes(field));
}
