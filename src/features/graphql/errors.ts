// GraphQL shapes of the features' own expected failures (listed in the mutations' result unions).
import { encodeGlobalID } from '@pothos/plugin-relay';
import { ErrorInterface } from '../../schema/errors.js';
import { builder } from '../../schema/builder.js';
import { VariantKeyError, WeightsError } from '../errors.js';

builder.objectType(VariantKeyError, {
  name: 'VariantKeyError',
  description:
    'A variant key breaks a rule: INVALID_VARIANT_KEY, RESERVED_VARIANT_KEY, DUPLICATE_VARIANT_KEY or VARIANT_KEY_IN_USE.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof VariantKeyError,
  fields: (t) => ({
    key: t.string({ nullable: true, description: 'The key at fault (trimmed).', resolve: (error) => error.key }),
    path: t.stringList({ resolve: (error) => error.path.map(String) }),
  }),
});

builder.objectType(WeightsError, {
  name: 'WeightsError',
  description: "WEIGHTS_EXCEED_100: the options' weights in an environment (or their default weights) would sum to more than 100.",
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof WeightsError,
  fields: (t) => ({
    environmentId: t.id({
      nullable: true,
      description: 'The environment whose sum is too high; null for the default weights.',
      resolve: (error) => (error.environment ? encodeGlobalID('Environment', error.environment.id) : null),
    }),
    environmentName: t.string({ nullable: true, resolve: (error) => error.environment?.name ?? null }),
    total: t.float({ description: 'The sum the write would have made.', resolve: (error) => error.total }),
    path: t.stringList({ resolve: (error) => error.path.map(String) }),
  }),
});
