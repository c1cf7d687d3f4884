// API tokens' commands: the secret is shown once at creation; only its SHA-256 is stored.
import { audit, runAudited } from '../audit/scope.js';
import { hashSecret, newTokenSecret } from '../auth/credentials.js';
import { uniqueViolationFields } from '../db/sql-state.js';
import { NotFoundError, ValidationError } from '../errors/app-errors.js';
import type { ApiToken, PrismaClient } from '../generated/prisma/client.js';
import type { ApiScope } from '../generated/prisma/enums.js';
import { normaliseTokenInput } from './normalise.js';

export async function createApiToken(
  prisma: PrismaClient,
  input: { name: string; scopes: ApiScope[]; secret?: string },
): Promise<{ token: ApiToken; secret: string }> {
  const { name, scopes } = normaliseTokenInput(input);
  const secret = input.secret ?? newTokenSecret();
  const token = await prisma.$transaction(async (tx) => {
    const created = await tx.apiToken.create({ data: { name, scopes, tokenHash: hashSecret(secret) } });
    await audit(tx, 'ApiToken', null, created);
    return created;
  });
  return { token, secret };
}

/** Lock key that serialises revocations, so that two of them cannot both leave no admin. */
const REVOKE_LOCK_KEY = 72707371;

export async function revokeApiToken(prisma: PrismaClient, id: number): Promise<ApiToken> {
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${REVOKE_LOCK_KEY})`;
    const existing = await tx.apiToken.findUnique({ where: { id } });
    if (!existing) throw new NotFoundError('No API token with this id.', null, ['id']);
    if (existing.revokedAt) {
      await audit(tx, 'ApiToken', existing, existing);
      return existing;
    }
    if (existing.scopes.includes('ADMIN')) {
      const otherAdmins = await tx.apiToken.count({ where: { id: { not: id }, revokedAt: null, scopes: { has: 'ADMIN' } } });
      if (otherAdmins === 0) {
        throw new ValidationError(
          'LAST_ADMIN_TOKEN',
          'This is the last active ADMIN token: create another ADMIN token before revoking it.',
          ['id'],
        );
      }
    }
    const revoked = await tx.apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
    await audit(tx, 'ApiToken', existing, revoked);
    return revoked;
  });
}

export type AdminTokenState = 'created' | 'exists' | 'revoked';

/**
 * Makes the secret an ADMIN token of this database unless it already names a token (the
 * ADMIN_TOKEN of a later start). A revoked secret stays revoked.
 */
export async function ensureAdminToken(prisma: PrismaClient, secret: string): Promise<AdminTokenState> {
  const existing = await prisma.apiToken.findUnique({ where: { tokenHash: hashSecret(secret) } });
  if (existing) return existing.revokedAt ? 'revoked' : 'exists';
  try {
    await runAudited({ action: 'createApiToken', actor: { tokenId: null, name: 'ADMIN_TOKEN at server start' } }, () =>
      createApiToken(prisma, { name: 'admin (ADMIN_TOKEN)', scopes: ['ADMIN'], secret }),
    );
    return 'created';
  } catch (error) {
    // Another server on the same database added it at the same moment.
    if (uniqueViolationFields(error)) return 'exists';
    throw error;
  }
}
