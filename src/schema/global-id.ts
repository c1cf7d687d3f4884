// The one rule for global ids (base64 of `Type:id`): an id has exactly one spelling (canonical
// base64 of `Type:<decimal without leading zeros>` within the column's range); anything else
// names nothing, exactly like an id of a row that does not exist. The `globalIds` plugin applies
// it to every `t.arg.globalID` / `t.globalID` input (nested ones too) after the caller's scopes
// were checked: mutations answer `NotFoundError`, nullable lookups null, other fields a
// GraphQL error with `extensions.code` `NOT_FOUND`.
import SchemaBuilder, {
  BasePlugin,
  type PothosInputFieldConfig,
  type PothosInputFieldType,
  type PothosOutputFieldConfig,
  type SchemaTypes,
} from '@pothos/core';
import type { GraphQLFieldResolver } from 'graphql';
import { NotFoundError, toGraphQLError } from '../errors/app-errors.js';

const INT4_MAX = 2_147_483_647;
const INT8_MAX = 9_223_372_036_854_775_807n;
const TYPENAME = /^[A-Z_a-z]\w*$/;
/** Node types whose database id is a BigInt; every other node's is a 32-bit Int. */
const BIGINT_ID_TYPES = new Set(['Exposure']);

export interface DecodedGlobalId {
  typename: string;
  /** The database id as canonical decimal text. */
  id: string;
}

/** Decodes a global id under the one rule; null when it names nothing. */
export function decodeGlobalId(raw: string): DecodedGlobalId | null {
  if (raw.length === 0 || raw.length > 200) return null;
  const text = Buffer.from(raw, 'base64').toString('utf8');
  // Only the spelling the server writes: padding, whitespace, URL-safe letters or invalid
  // UTF-8 would otherwise give a second name to the same row.
  if (Buffer.from(text, 'utf8').toString('base64') !== raw) return null;
  const colon = text.indexOf(':');
  if (colon < 1) return null;
  const typename = text.slice(0, colon);
  const id = text.slice(colon + 1);
  if (!TYPENAME.test(typename) || !/^[1-9][0-9]{0,18}$/.test(id)) return null;
  if (BIGINT_ID_TYPES.has(typename) ? BigInt(id) > INT8_MAX : Number(id) > INT4_MAX) return null;
  return { typename, id };
}

/** The global id of a row (what every `id` field answers). */
export function encodeGlobalId(typename: string, id: number | bigint | string): string {
  return Buffer.from(`${typename}:${id}`, 'utf8').toString('base64');
}

/** A short, printable prefix of an id for messages and error fields. */
function shown(raw: string): string {
  return raw.length > 64 ? `${raw.slice(0, 64)}…` : raw;
}

interface InvalidId {
  raw: string;
  expected: string[] | null;
  path: (string | number)[];
}

const INVALID = Symbol('invalid global id');

type Args = Record<string | symbol, unknown>;

interface GlobalIdField {
  name: string;
  type: PothosInputFieldType<SchemaTypes>;
  extensions?: Record<string, unknown> | null;
}

export class PothosGlobalIdPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  private readonly hasIds = new Map<string, boolean>();

  /** Whether an input type (or one nested in it) has a global id field. */
  private inputHasIds(typeName: string): boolean {
    const known = this.hasIds.get(typeName);
    if (known !== undefined) return known;
    this.hasIds.set(typeName, false);
    const fields = Object.values(this.buildCache.getInputTypeFieldConfigs(typeName as never));
    const result = fields.some((field) => this.fieldHasIds(field as never));
    this.hasIds.set(typeName, result);
    return result;
  }

  private fieldHasIds(field: GlobalIdField): boolean {
    if (field.extensions?.isRelayGlobalID) return true;
    let type = field.type;
    while (type.kind === 'List') type = type.type;
    return type.kind === 'InputObject' && this.inputHasIds(this.buildCache.getTypeConfig(type.ref as never).name);
  }

  /** The first global id in the arguments that names nothing, with its path. */
  private findInvalid(fields: Record<string, GlobalIdField>, values: Args, path: (string | number)[]): InvalidId | null {
    for (const field of Object.values(fields)) {
      const value = values[field.name];
      if (value === null || value === undefined || !this.fieldHasIds(field)) continue;
      const found = this.checkValue(field, field.type, value, [...path, field.name]);
      if (found) return found;
    }
    return null;
  }

  private checkValue(field: GlobalIdField, type: PothosInputFieldType<SchemaTypes>, value: unknown, path: (string | number)[]): InvalidId | null {
    if (value === null || value === undefined) return null;
    if (type.kind === 'List') {
      const items = value as unknown[];
      for (let index = 0; index < items.length; index++) {
        const found = this.checkValue(field, type.type, items[index], [...path, index]);
        if (found) return found;
      }
      return null;
    }
    if (field.extensions?.isRelayGlobalID) {
      const forTypes = field.extensions.relayGlobalIDFor as { typename: string }[] | null | undefined;
      const expected = forTypes ? forTypes.map((entry) => entry.typename) : null;
      const decoded = decodeGlobalId(String(value));
      if (!decoded || (expected && !expected.includes(decoded.typename))) return { raw: String(value), expected, path };
      return null;
    }
    if (type.kind !== 'InputObject') return null;
    const fields = this.buildCache.getInputTypeFieldConfigs(type.ref as never) as unknown as Record<string, GlobalIdField>;
    return this.findInvalid(fields, value as Args, path);
  }

  override onOutputFieldConfig(fieldConfig: PothosOutputFieldConfig<Types>): PothosOutputFieldConfig<Types> {
    const args = fieldConfig.args as Record<string, PothosInputFieldConfig<Types>>;
    if (!Object.values(args).some((arg) => this.fieldHasIds(arg as never))) return fieldConfig;
    // Checked before Pothos decodes (its decoding would throw before the caller's scopes run);
    // the decoders after it are skipped for arguments that name nothing.
    const check = (values: Args) => {
      const invalid = this.findInvalid(args as never, values, []);
      return invalid ? { ...values, [INVALID]: invalid } : values;
    };
    const skipIfInvalid = fieldConfig.argMappers.map(
      (mapper) => (values: Args, context: Types['Context'], info: Parameters<typeof mapper>[2]) =>
        INVALID in values ? values : mapper(values, context, info),
    );
    return {
      ...fieldConfig,
      argMappers: [check, ...skipIfInvalid] as typeof fieldConfig.argMappers,
      extensions: { ...fieldConfig.extensions, checksGlobalIds: true },
    };
  }

  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    if (!fieldConfig.extensions?.checksGlobalIds) return resolver;
    const errorTypes = (fieldConfig.extensions.pothosErrors ?? []) as unknown[];
    const typed = errorTypes.includes(NotFoundError);
    const nullable = fieldConfig.type.kind !== 'List' && fieldConfig.type.nullable;
    return (parent, args, context, info) => {
      const invalid = (args as Args)[INVALID] as InvalidId | undefined;
      if (!invalid) return resolver(parent, args, context, info);
      if (!typed && nullable) return null;
      const what = invalid.expected ? invalid.expected.join(' or ') : 'node';
      const message = `No ${what} with the id "${shown(invalid.raw)}".`;
      // Paths name the field inside a mutation's one `input` argument, as rules' errors do.
      const path = fieldConfig.kind === 'Mutation' && invalid.path[0] === 'input' ? invalid.path.slice(1) : invalid.path;
      if (typed) throw new NotFoundError(message, shown(invalid.raw), path);
      throw toGraphQLError(new NotFoundError(message, shown(invalid.raw), path));
    };
  }
}

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      globalIds: PothosGlobalIdPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin('globalIds', PothosGlobalIdPlugin);

export const GlobalIdPlugin = 'globalIds' as const;
