// The effective weight of an option in an environment, for statements that compute it in SQL
// (evaluation's config, the experiment summary); weights.ts' effectiveWeights is the same rule
// for rows already read. Other domains import it from here, its one home.
import { Prisma } from '../generated/prisma/client.js';

/**
 * The environment's VariantAllocation, else the option's defaultWeight (SPEC.md section 2),
 * as float8. For a statement that names the option `o` and the environment's allocation of
 * it `a` (a LEFT JOIN: no row means no override).
 */
export const EFFECTIVE_WEIGHT_SQL = Prisma.sql`COALESCE(a."weight", o."defaultWeight")::float8`;
