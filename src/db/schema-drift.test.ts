// The migrated database must match prisma/schema.prisma: the expectations below are derived
// from Prisma's datamodel (generated from schema.prisma), never from a hand-kept list.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDatamodel } from '../generated/pothos-types.js';
import { databaseKinds, migratedDatabase, type TestDatabase } from '../../test/helpers/databases.js';

const datamodel = getDatamodel().datamodel;
const schemaText = readFileSync(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8');

const SCALAR_TYPES: Record<string, string> = {
  Int: 'integer',
  BigInt: 'bigint',
  String: 'text',
  Boolean: 'boolean',
  Float: 'double precision',
  Json: 'jsonb',
};

/** PostgreSQL's name (udt_name, without the leading `_` of an array) of a scalar list's elements. */
const LIST_ELEMENT_TYPES: Record<string, string> = { Int: 'int4', BigInt: 'int8', String: 'text', Boolean: 'bool', Float: 'float8', Json: 'jsonb' };

/** The native type attribute written on a field in schema.prisma (e.g. `@db.Timestamptz(3)`). */
function nativeType(model: string, field: string): string | undefined {
  const block = new RegExp(`model ${model} \\{([\\s\\S]*?)\\n\\}`).exec(schemaText)?.[1] ?? '';
  const line = block.split('\n').find((l) => l.trim().split(/\s+/)[0] === field) ?? '';
  return /@db\.(\w+)/.exec(line)?.[1];
}

function expectedDataType(model: string, field: { name: string; type: string; kind: string }): string {
  if (field.kind === 'enum') return 'USER-DEFINED';
  if (field.type === 'DateTime') {
    return nativeType(model, field.name) === 'Timestamptz' ? 'timestamp with time zone' : 'timestamp without time zone';
  }
  return SCALAR_TYPES[field.type];
}

interface Column {
  table_name: string;
  column_name: string;
  is_nullable: 'YES' | 'NO';
  data_type: string;
  udt_name: string;
}

describe.each(databaseKinds)('migrated %s database matches schema.prisma', (kind) => {
  let database: TestDatabase;
  let columns: Column[];
  let uniques: { table: string; columns: string[]; primary: boolean }[];
  let plainIndexes: { table: string; columns: string[] }[];
  let foreignKeys: { table: string; columns: string[]; target: string }[];
  let enums: { name: string; values: string[] }[];

  beforeAll(async () => {
    database = await migratedDatabase(kind);
    await database.db.withSession(async (s) => {
      columns = await s.query<Column>(
        `SELECT table_name, column_name, is_nullable, data_type, udt_name FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
      );
      const indexRows = await s.query<{ table: string; columns: string[]; primary: boolean }>(
        `SELECT t.relname AS table, i.indisprimary AS primary,
                array_agg(a.attname::text ORDER BY k.ord) AS columns
           FROM pg_index i
           JOIN pg_class t ON t.oid = i.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
           CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
          WHERE i.indisunique
          GROUP BY i.indexrelid, t.relname, i.indisprimary`,
      );
      uniques = indexRows;
      plainIndexes = await s.query(
        `SELECT t.relname AS table, array_agg(a.attname::text ORDER BY k.ord) AS columns
           FROM pg_index i
           JOIN pg_class t ON t.oid = i.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
           CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
          WHERE NOT i.indisunique
          GROUP BY i.indexrelid, t.relname`,
      );
      foreignKeys = await s.query(
        `SELECT c.conrelid::regclass::text AS table, c.confrelid::regclass::text AS target,
                array_agg(a.attname::text ORDER BY k.ord) AS columns
           FROM pg_constraint c
           CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
          WHERE c.contype = 'f'
          GROUP BY c.oid, c.conrelid, c.confrelid`,
      );
      enums = await s.query(
        `SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS values
           FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname`,
      );
    });
  });
  afterAll(() => database?.dispose());

  const unquote = (name: string) => name.replace(/^"|"$/g, '');

  for (const [modelName, model] of Object.entries(datamodel.models)) {
    describe(modelName, () => {
      const stored = model.fields.filter((f) => f.kind === 'scalar' || f.kind === 'enum');

      it('has exactly the columns of the model, with their types and nullability', () => {
        const tableColumns = columns.filter((c) => c.table_name === modelName);
        expect(tableColumns.map((c) => c.column_name).sort()).toEqual(stored.map((f) => f.name).sort());
        for (const field of stored) {
          const column = tableColumns.find((c) => c.column_name === field.name)!;
          // Prisma creates scalar lists without NOT NULL; everything else follows `?`.
          const nullable = field.isList ? true : !field.isRequired;
          expect({ field: field.name, nullable: column.is_nullable === 'YES' }).toEqual({ field: field.name, nullable });
          if (field.isList) {
            expect({ field: field.name, type: column.data_type }).toEqual({ field: field.name, type: 'ARRAY' });
            const element = field.kind === 'enum' ? field.type : (LIST_ELEMENT_TYPES[field.type] ?? field.type);
            expect(column.udt_name).toBe(`_${element}`);
          } else {
            expect({ field: field.name, type: column.data_type }).toEqual({ field: field.name, type: expectedDataType(modelName, field) });
            if (field.kind === 'enum') expect(column.udt_name).toBe(field.type);
          }
        }
      });

      it('has the primary key and unique constraints of the model', () => {
        const tableUniques = uniques.filter((u) => u.table === modelName);
        const primary = model.primaryKey?.fields ?? model.fields.filter((f) => f.isId).map((f) => f.name);
        expect(tableUniques.filter((u) => u.primary).map((u) => u.columns)).toEqual([primary]);
        const expected = [
          ...model.fields.filter((f) => f.isUnique).map((f) => [f.name]),
          ...model.uniqueIndexes.map((u) => u.fields),
        ].map((cols) => cols.join(','));
        expect(tableUniques.filter((u) => !u.primary).map((u) => u.columns.join(',')).sort()).toEqual(expected.sort());
      });

      it('has the secondary indexes the model declares (@@index)', () => {
        const block = new RegExp(`model ${modelName} \\{([\\s\\S]*?)\\n\\}`).exec(schemaText)?.[1] ?? '';
        const declared = [...block.matchAll(/@@index\(\[([^\]]+)\]/g)].map((m) => m[1].split(',').map((c) => c.trim()).join(','));
        const actual = plainIndexes.filter((i) => i.table === modelName).map((i) => i.columns.join(','));
        expect(actual.sort()).toEqual(declared.sort());
      });

      it('has a foreign key for each relation it owns', () => {
        const owned = model.fields.filter((f) => f.kind === 'object' && f.relationFromFields?.length);
        const tableKeys = foreignKeys.filter((k) => unquote(k.table) === modelName);
        expect(tableKeys.map((k) => `${k.columns.join(',')}->${unquote(k.target)}`).sort()).toEqual(
          owned.map((f) => `${f.relationFromFields!.join(',')}->${f.type}`).sort(),
        );
      });
    });
  }

  it('has every enum with its values', () => {
    const enumBlocks = [...schemaText.matchAll(/enum (\w+) \{([^}]*)\}/g)].map((m) => ({
      name: m[1],
      values: m[2].split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('//')),
    }));
    expect(enumBlocks.length).toBeGreaterThan(0);
    for (const block of enumBlocks) expect(enums).toContainEqual(block);
  });
});
