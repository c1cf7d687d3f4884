// schema.graphql is the committed contract that codegen.ts writes from the Pothos schema;
// this fails when someone changed the API without running `npm run codegen`.
import { readFileSync } from 'node:fs';
import { buildSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from './index.js';

describe('schema.graphql', () => {
  it('is up to date with the Pothos schema (run `npm run codegen` after changing the API)', () => {
    const committed = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));
    expect(printSchema(lexicographicSortSchema(committed))).toBe(printSchema(lexicographicSortSchema(schema)));
  });

  it('keeps the public names of SPEC section 4', () => {
    const mutations = Object.keys(schema.getMutationType()!.getFields());
    expect(mutations).toEqual(expect.arrayContaining(['createProject', 'createEnvironment', 'createApiToken', 'revokeApiToken']));
    const queries = Object.keys(schema.getQueryType()!.getFields());
    expect(queries).toEqual(expect.arrayContaining(['projects', 'project', 'node']));
    for (const name of ['createProject', 'createEnvironment', 'createApiToken', 'revokeApiToken']) {
      const payload = `${name[0].toUpperCase()}${name.slice(1)}Payload`;
      expect(schema.getType(payload), payload).toBeDefined();
    }
    const error = schema.getType('Error');
    expect(error && 'getFields' in error ? Object.keys(error.getFields()).sort() : []).toEqual(['code', 'message']);
  });
});
