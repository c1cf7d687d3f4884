// Wires the per-process services that every request shares.
import type { Logger } from 'pino';
import { EnvironmentKeyCache, type Services } from './context.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import { EvaluationService } from './evaluation/service.js';
import { exposureRecorder } from './exposures/record.js';

export function createServices(config: Config, db: Database, logger: Logger): Services {
  const services: Services = {
    config,
    db,
    prisma: db.prisma,
    logger,
    environmentKeys: new EnvironmentKeyCache(db.prisma),
    hooks: { environmentsChanged: [] },
  };
  services.evaluation = new EvaluationService(services);
  services.recordServedVariants = exposureRecorder(services).recordServedVariants;
  return services;
}
