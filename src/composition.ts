// The composition root: every service of the process, built once with its dependencies
// passed in. Nothing else constructs a domain service.
import type { Logger } from 'pino';
import { createCallerResolver, type ResolveCaller } from './auth/caller.js';
import { EnvironmentKeyCache } from './auth/environment-keys.js';
import { ExposureHorizon } from './analytics/horizon.js';
import type { Config } from './config.js';
import { type ConfigChanges, createConfigChanges } from './db/config-changes.js';
import type { Database } from './db/database.js';
import { EvaluationConfigCache } from './evaluation/cache.js';
import { type EvaluationConfig, loadEvaluationConfig } from './evaluation/config.js';
import { IdentityStore } from './evaluation/identities.js';
import { createLiveFlags, type LiveFlagsService } from './evaluation/live.js';
import { type Assignments, createAssignments, createEvaluation, type EvaluationService } from './evaluation/service.js';
import { createExperimentService, type ExperimentService } from './experiments/service.js';
import { FeatureCatalog } from './exposures/catalog.js';
import { createExposureService, type ExposureService } from './exposures/service.js';
import { ExposureWriter } from './exposures/store.js';
import { createFeatureService, type FeatureService } from './features/service.js';
import type { PrismaClient } from './generated/prisma/client.js';
import { createOpenFeatureService, type OpenFeatureService } from './openfeature/service.js';
import { createProjectService, type ProjectService } from './projects/service.js';
import { createTargetingService, type TargetingService } from './targeting/service.js';

export interface Services {
  config: Config;
  db: Database;
  prisma: PrismaClient;
  logger: Logger;
  /** Admin writes announce here what they changed; the config caches subscribe. */
  configChanges: ConfigChanges;
  resolveCaller: ResolveCaller;
  evaluation: EvaluationService;
  /** What evaluation assigns an identity now (exposures, later experiments). */
  assignments: Assignments;
  exposures: ExposureService;
  experiments: ExperimentService;
  features: FeatureService;
  projects: ProjectService;
  targeting: TargetingService;
  openfeature: OpenFeatureService;
  /** `flagsChanged` subscriptions of this process. */
  liveFlags: LiveFlagsService;
  horizon: ExposureHorizon;
}

export interface ComposeOptions {
  /** Sees every evaluation-config load (tests count them). */
  onConfigLoad?: (environmentId: number) => void;
  /** Sees every identity upsert statement of evaluation (tests count them). */
  onIdentityStatement?: () => void;
  /** Sees every identity read statement of evaluation (tests count them). */
  onIdentityRead?: () => void;
  /** The clock of evaluation's identity bookkeeping (tests move it past lastSeenAt's minute). */
  identityClock?: () => number;
}

export function compose(config: Config, db: Database, logger: Logger, options: ComposeOptions = {}): Services {
  const { prisma } = db;
  const configChanges = createConfigChanges({ db, logger });

  const load = (environmentId: number): Promise<EvaluationConfig | undefined> => {
    options.onConfigLoad?.(environmentId);
    return loadEvaluationConfig(prisma, environmentId);
  };
  const configs = new EvaluationConfigCache(load, config.cacheTtlSeconds * 1000);
  const identities = new IdentityStore(prisma, options.onIdentityStatement, options.identityClock, options.onIdentityRead);
  const catalog = new FeatureCatalog(prisma, config.cacheTtlSeconds * 1000);
  configChanges.subscribe((environmentIds) => {
    if (environmentIds) configs.invalidate(environmentIds);
    else configs.clear();
    // Identities are read with their overrides: re-read them after any change.
    identities.invalidate(environmentIds);
    // Catalog entries are by project: any change clears them all.
    catalog.clear();
  });

  // PGlite runs one statement at a time anyway; on PostgreSQL half the pool is left for the rest.
  const exposureStatements = db.kind === 'pglite' ? 1 : Math.max(1, Math.floor(config.databasePoolSize / 2));
  const assignments = createAssignments({ configs, identities });
  const exposures = createExposureService({ prisma, catalog, writer: new ExposureWriter(prisma, exposureStatements, undefined, db.direct), assignments });

  const evaluation = createEvaluation({ configs, identities, servedVariants: exposures });
  // Experiments pass their `metadata` source here (experimentId, experimentIteration).
  const openfeature = createOpenFeatureService({ evaluation, configChanges, maxStreams: config.ofrepMaxStreams });

  return {
    config,
    db,
    prisma,
    logger,
    configChanges,
    resolveCaller: createCallerResolver({ prisma, environmentKeys: new EnvironmentKeyCache(prisma) }),
    evaluation,
    assignments,
    exposures,
    experiments: createExperimentService({ prisma }),
    features: createFeatureService({ prisma }),
    projects: createProjectService({ prisma }),
    targeting: createTargetingService({ prisma }),
    openfeature,
    liveFlags: createLiveFlags({ evaluation, configChanges, maxSubscriptions: config.maxSubscriptions, refreshMs: config.cacheTtlSeconds * 1000 }),
    horizon: new ExposureHorizon(prisma),
  };
}
