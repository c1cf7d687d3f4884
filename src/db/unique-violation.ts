// Recognises a unique-constraint violation however it reaches us: Prisma's P2002 (through
// either driver adapter) or PostgreSQL's 23505 from raw SQL.
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
