// The per-request GraphQL context: the process's services and who is calling.
import type { Caller } from './auth/credentials.js';
import type { Services } from './composition.js';
import type { PrismaClient } from './generated/prisma/client.js';
import type { RequestLogger } from './logger.js';

export interface Context {
  services: Services;
  prisma: PrismaClient;
  caller: Caller;
  /** A GET request: nothing it runs may write. */
  readOnly: boolean;
  requestId: string;
  logger: RequestLogger;
}
