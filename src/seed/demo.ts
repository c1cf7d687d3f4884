// First start on an empty database: a demo project to try flagledger with, and the admin
// token. A restart finds data and seeds nothing.
import type { Services } from '../composition.js';
import { newEnvironmentKey, hashSecret, newTokenSecret } from '../auth/credentials.js';

export interface SeedResult {
  /** The admin secret, only when it was generated here (never when ADMIN_TOKEN was given). */
  generatedAdminSecret: string | undefined;
  environments: { name: string; key: string }[];
  projectName: string;
}

/** Lock key that serialises first starts of several servers on one PostgreSQL. */
const SEED_LOCK_KEY = 72707370;

export async function seedIfEmpty(services: Services): Promise<SeedResult | undefined> {
  const { prisma, config } = services;
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SEED_LOCK_KEY})`;
    const [projects, tokens] = await Promise.all([tx.project.count(), tx.apiToken.count()]);
    if (projects > 0 || tokens > 0) return undefined;

    const project = await tx.project.create({
      data: {
        name: 'Demo',
        environments: {
          create: [
            { name: 'development', key: newEnvironmentKey() },
            { name: 'production', key: newEnvironmentKey() },
          ],
        },
      },
      include: { environments: { orderBy: { id: 'asc' } } },
    });
    const feature = await tx.feature.create({
      data: {
        projectId: project.id,
        name: 'checkout_button',
        description: 'Label of the checkout button: an A/B/C test of three wordings.',
        initialValue: 'Buy',
        defaultEnabled: true,
        options: {
          create: [
            { key: 'variant_a', name: 'Buy now', value: 'Buy now', defaultWeight: 34, priority: 1 },
            { key: 'variant_b', name: 'Purchase', value: 'Purchase', defaultWeight: 33, priority: 2 },
          ],
        },
      },
    });
    await tx.featureState.createMany({
      data: project.environments.map((environment) => ({ environmentId: environment.id, featureId: feature.id, enabled: true })),
    });
    const secret = config.adminToken ?? newTokenSecret();
    await tx.apiToken.create({ data: { name: 'admin (first start)', scopes: ['ADMIN'], tokenHash: hashSecret(secret) } });
    return {
      generatedAdminSecret: config.adminToken ? undefined : secret,
      environments: project.environments.map(({ name, key }) => ({ name, key })),
      projectName: project.name,
    };
  });
}
