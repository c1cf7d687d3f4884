// The fields every option input has (with its feature, created alone, updated), and how the
// fields a caller sent reach the commands.
import type { builder } from '../../schema/builder.js';
import type { OptionInput } from '../normalise.js';

export const optionFields = (t: PothosSchemaTypes.InputFieldBuilder<typeof builder.$inferSchemaTypes, 'InputObject'>) => ({
  key: t.string({ description: 'Variant key: trimmed, blank means none; 1-100 of [A-Za-z0-9_.-], not "control".' }),
  name: t.string({ description: 'Display name, at most 200 characters.' }),
  description: t.string({ description: 'At most 2000 characters.' }),
  value: t.field({ type: 'JSON', description: 'Any JSON value; omitted or null is JSON null.' }),
  defaultWeight: t.float({ description: 'Percentage 0-100 with at most 2 decimals (default 0).' }),
  priority: t.int({ description: 'Evaluation order; default after every existing option (creation order).' }),
});

/** Only the fields the caller sent: an absent field and an explicit null differ in updates. */
export function optionInput(args: OptionInput): OptionInput {
  const input: OptionInput = {};
  for (const field of ['key', 'name', 'description', 'value', 'defaultWeight', 'priority'] as const) {
    if (field in args && args[field] !== undefined) (input as Record<string, unknown>)[field] = args[field];
  }
  return input;
}
