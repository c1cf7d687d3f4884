// What validating an exposure needs to know of a project's features: id by name, and the ids
// of every option by variant key, archived features and options included (late events for
// them are real). Kept in memory so the hot path of `recordExposure` issues no query for it.
//
// Freshness: the cache only ever answers "known". A name or key it does not know is looked up
// again before anything is rejected, so new features and keys are seen at once. What can go
// stale is a key that was removed or renamed (only possible while it has no exposures): admin
// writes clear the cache at once in this process and, through the config-change notifier
// (src/db/config-changes.ts), in the others; entries also expire after the config cache TTL.
// An exposure that still names a deleted option is refused by its foreign key, and the
// recorder then retries with a cleared cache (see service.ts).
import { VARIANT_CONTROL } from '../engine/index.js';
import type { PrismaClient } from '../generated/prisma/client.js';

export interface CatalogFeature {
  id: number;
  name: string;
  optionIdByKey: ReadonlyMap<string, number>;
}

interface Entry {
  feature: CatalogFeature;
  expiresAt: number;
}

const MAX_ENTRIES = 50_000;

export class FeatureCatalog {
  /** By `${projectId}:${name}`. */
  private readonly entries = new Map<string, Entry>();
  /** Bumped by clear(): a lookup that began before a clear must not store what it read. */
  private generation = 0;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  clear(): void {
    this.generation += 1;
    this.entries.clear();
  }

  /**
   * The features named, by name (absent: no such feature in the project). `keysByName` lists
   * the variant keys that will be asked of each: a cached feature that lacks one of them is
   * read again (the key may have been set since).
   */
  async resolve(projectId: number, keysByName: ReadonlyMap<string, ReadonlySet<string>>): Promise<Map<string, CatalogFeature>> {
    const found = new Map<string, CatalogFeature>();
    const missing: string[] = [];
    const now = this.now();
    for (const [name, keys] of keysByName) {
      const entry = this.entries.get(`${projectId}:${name}`);
      if (entry && entry.expiresAt > now && [...keys].every((key) => key === VARIANT_CONTROL || entry.feature.optionIdByKey.has(key))) {
        found.set(name, entry.feature);
      } else {
        missing.push(name);
      }
    }
    if (missing.length === 0) return found;

    const generation = this.generation;
    const features = await this.prisma.feature.findMany({
      where: { projectId, name: { in: missing } },
      select: { id: true, name: true, options: { where: { key: { not: null } }, select: { id: true, key: true } } },
    });
    const expiresAt = this.now() + this.ttlMs;
    for (const row of features) {
      const feature: CatalogFeature = {
        id: row.id,
        name: row.name,
        optionIdByKey: new Map(row.options.map((option) => [option.key!, option.id])),
      };
      found.set(row.name, feature);
      if (generation === this.generation && this.ttlMs > 0) {
        if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
        this.entries.set(`${projectId}:${row.name}`, { feature, expiresAt });
      }
    }
    return found;
  }
}
