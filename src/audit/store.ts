// The audit log's SQL: one entry written in the transaction of the change it records.
import { Prisma } from '../generated/prisma/client.js';
import type { AuditJson } from './normalise.js';

export type Tx = Prisma.TransactionClient;

export interface NewAuditEntry {
  actorTokenId: number | null;
  actorName: string;
  action: string;
  targetType: string;
  targetId: number;
  before: AuditJson;
  after: AuditJson;
}

const jsonOrNull = (value: AuditJson) => (value === null ? Prisma.DbNull : (value as Prisma.InputJsonValue));

/** Writes one entry with the caller's transaction: it commits or rolls back with the change. */
export async function insertAuditEntry(tx: Tx, entry: NewAuditEntry): Promise<void> {
  await tx.auditEntry.create({
    data: { ...entry, before: jsonOrNull(entry.before), after: jsonOrNull(entry.after) },
    select: { id: true },
  });
}
