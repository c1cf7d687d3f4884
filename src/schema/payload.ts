// Success types of mutations: `<MutationName>Payload` with one field named after what the
// mutation made or changed (SPEC.md section 4).
import type { ObjectRef } from '@pothos/core';
import { builder } from './builder.js';

// biome-ignore lint: Pothos refs are invariant in their parameters
type AnyRef<T> = ObjectRef<any, T> | { $inferType: T };

export function payloadType<Key extends string, T>(
  name: string,
  key: Key,
  type: AnyRef<T>,
): ObjectRef<Types, { [K in Key]: T }> {
  const ref = builder.objectRef<{ [K in Key]: T }>(name);
  ref.implement({
    fields: (t) =>
      ({
        [key]: t.field({ type: type as never, resolve: (parent) => parent[key] as never }),
      }) as never,
  });
  return ref as never;
}

type Types = typeof builder.$inferSchemaTypes;
