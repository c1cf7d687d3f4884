// Server-side evaluation (SPEC.md section 3): the caller's environment config from the
// cache, the identity from the identity store, the flags from the engine.
import { randomUUID } from 'node:crypto';
import type { EnvironmentRef, EvaluationApi, ServedVariant, Services } from '../context.js';
import type { FlagResult, IdentityContext } from '../engine/index.js';
import { EvaluationConfigCache } from './cache.js';
import { loadEvaluationConfig } from './config.js';
import { IdentityStore, type KnownIdentity, type Traits } from './identities.js';
import { checkIdentifier, checkTraits, invalidInput } from './inputs.js';

/** NOTIFY channel on which server processes tell each other which environments changed. */
export const CONFIG_CHANNEL = 'flagledger_config';
/** NOTIFY payloads must stay under 8000 bytes. */
const IDS_PER_NOTIFICATION = 500;

export interface EvaluationRequest {
  identifier?: string | null;
  traits?: unknown;
  recordExposures?: boolean | null;
}

export class EvaluationService implements EvaluationApi {
  readonly configs: EvaluationConfigCache;
  readonly identities: IdentityStore;
  /** Resolves once this process listens for other processes' change notices. */
  readonly listening: Promise<void>;
  /** Tells this process's own notices apart from other processes'. */
  private readonly origin = randomUUID();

  constructor(private readonly services: Services) {
    const { db, prisma, logger, config } = services;
    this.configs = new EvaluationConfigCache((environmentId) => loadEvaluationConfig(prisma, environmentId), config.cacheTtlSeconds * 1000);
    this.identities = new IdentityStore(prisma);

    services.hooks.environmentsChanged.push(async (environmentIds) => {
      this.configs.invalidate(environmentIds);
      try {
        for (let i = 0; i < environmentIds.length; i += IDS_PER_NOTIFICATION) {
          const payload = JSON.stringify({ origin: this.origin, environmentIds: environmentIds.slice(i, i + IDS_PER_NOTIFICATION) });
          await db.notify(CONFIG_CHANNEL, payload);
        }
      } catch (error) {
        // The write is committed; other processes catch up within the cache TTL.
        logger.warn({ err: error, environmentIds }, 'could not notify other server processes of a config change');
      }
    });

    this.listening = db
      .listen(CONFIG_CHANNEL, (payload) => this.onNotice(payload))
      .then(() => undefined)
      .catch((error: unknown) => {
        logger.warn({ err: error }, 'not listening for config changes of other server processes: relying on the cache TTL');
      });
  }

  private onNotice(payload: string): void {
    try {
      const notice = JSON.parse(payload) as { origin?: unknown; environmentIds?: unknown };
      if (notice.origin === this.origin) return;
      if (Array.isArray(notice.environmentIds)) {
        this.configs.invalidate(notice.environmentIds.filter((id): id is number => Number.isInteger(id)));
        return;
      }
    } catch {
      // fall through: an unreadable notice drops everything, to be safe
    }
    this.configs.clear();
  }

  /** Every live flag of the caller's environment, by name; or only `name`'s. */
  async evaluate(environment: EnvironmentRef, request: EvaluationRequest, name?: string): Promise<FlagResult[]> {
    const identifier = request.identifier === null || request.identifier === undefined ? undefined : checkIdentifier(request.identifier);
    const traits = checkTraits(request.traits);
    if (identifier === undefined && traits !== undefined && Object.keys(traits).length > 0) {
      throw invalidInput('traits belong to an identity: send an identifier with them.');
    }
    const configOrPromise = this.configs.get(environment.environmentId);
    const identityOrPromise = identifier === undefined ? undefined : this.identities.resolve(environment.environmentId, identifier, traits);
    // Usually both are at hand (no await); otherwise wait for both, so neither rejection goes unheard.
    const [config, identity] =
      configOrPromise instanceof Promise || identityOrPromise instanceof Promise
        ? await Promise.all([configOrPromise, identityOrPromise])
        : [configOrPromise, identityOrPromise];
    if (!config) return [];

    const evaluation = config.engine.forIdentity(identity ? identityContext(identity) : null);
    const flags: FlagResult[] = [];
    const served: ServedVariant[] = [];
    const named = name === undefined ? undefined : config.featuresByName.get(name);
    const features = name === undefined ? config.features : named ? [named] : [];
    for (const feature of features) {
      const flag = evaluation.flag(feature.name);
      if (!flag) continue;
      flags.push(flag);
      if (feature.multivariate && flag.variant !== null) {
        served.push({ featureId: feature.featureId, optionId: feature.optionIdByVariantKey.get(flag.variant) ?? null, variantKey: flag.variant });
      }
    }
    if (request.recordExposures && identity && served.length > 0 && this.services.recordServedVariants) {
      await this.services.recordServedVariants(environment, { id: identity.id, identifier: identity.identifier }, served);
    }
    return flags;
  }

  async assignedVariantKeys(environmentId: number, identifier: string, featureIds: number[]): Promise<Map<number, string | null>> {
    const assigned = new Map<number, string | null>();
    const config = await this.configs.get(environmentId);
    if (!config) return assigned;
    const known = this.identities.known(environmentId, identifier);
    const evaluation = config.engine.forIdentity(known ? identityContext(known) : { identifier });
    for (const featureId of featureIds) {
      const feature = config.featuresById.get(featureId);
      if (!feature) continue;
      assigned.set(featureId, evaluation.flag(feature.name)?.variant ?? null);
    }
    return assigned;
  }
}

function identityContext(identity: KnownIdentity): IdentityContext {
  return { identifier: identity.identifier, traits: identity.traits as Traits };
}
