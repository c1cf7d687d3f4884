// The feature-name format (SPEC.md section 1), in one place: features apply it on every write
// of a name, exposures to skip the lookup of a name that cannot exist (and keep it from SQL).

export const FEATURE_NAME_MAX_LENGTH = 150;
const FEATURE_NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;
export const FEATURE_NAME_RULE = `A feature name is 1-${FEATURE_NAME_MAX_LENGTH} characters of A-Z, a-z, 0-9, "_", "." and "-".`;

/** Whether a (trimmed) name has the format of a feature name. */
export function isFeatureName(name: string): boolean {
  return name.length >= 1 && name.length <= FEATURE_NAME_MAX_LENGTH && FEATURE_NAME_PATTERN.test(name);
}
