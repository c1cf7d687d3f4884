// API tokens: the secret is shown once at creation; only its SHA-256 is stored.
import { hashSecret, newTokenSecret } from '../auth/credentials.js';
import { NotFoundError, ValidationError } from '../errors/app-errors.js';
import type { ApiToken, PrismaClient } from '../generated/prisma/client.js';
import type { ApiScope } from '../generated/prisma/enums.js';

export const SCOPES_PER_INPUT_MAX = 10;

export async function createApiToken(
  prisma: PrismaClient,
  input: { name: string; scopes: ApiScope[]; secret?: string },
): Promise<{ token: ApiToken; secret: string }> {
  const name = input.name.trim();
  if (name.length < 1 || name.length > 100) {
    throw new ValidationError('INVALID_NAME', 'A token name must be 1-100 characters.', ['name']);
  }
  if (input.scopes.length > SCOPES_PER_INPUT_MAX) {
    throw new ValidationError('INVALID_INPUT', `At most ${SCOPES_PER_INPUT_MAX} scopes per token.`, ['scopes']);
  }
  const scopes = [...new Set(input.scopes)];
  if (scopes.length === 0) {
    throw new ValidationError('INVALID_INPUT', 'A token needs at least one scope (ADMIN or ANALYTICS).', ['scopes']);
  }
  const secret = input.secret ?? newTokenSecret();
  const token = await prisma.apiToken.create({ data: { name, scopes, tokenHash: hashSecret(secret) } });
  return { token, secret };
}

export async function revokeApiToken(prisma: PrismaClient, id: number): Promise<ApiToken> {
  const existing = await prisma.apiToken.findUnique({ where: { id } });
  if (!existing) throw new NotFoundError('No API token with this id.', null, ['id']);
  if (existing.revokedAt) return existing;
  return prisma.apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
}
