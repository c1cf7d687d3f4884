// The DateTime scalar: ISO-8601 out; in, a string that is no valid timestamp (e.g.
// `2026-13-45`, year 10000) becomes an Invalid Date instead of failing the whole request, so
// that the field that takes it can refuse it on its own terms (one item of `recordExposures`
// is REJECTED with INVALID_TIMESTAMP, the others are recorded). Every DateTime argument or
// input field must check `isValidTime`.
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { toGraphQLError, ValidationError } from '../errors/app-errors.js';

export function isValidTime(value: Date): boolean {
  return !Number.isNaN(value.getTime());
}

/** The typed error of a DateTime argument that holds no valid timestamp. */
export function invalidTimestamp(argument: string): GraphQLError {
  return toGraphQLError(new ValidationError('INVALID_TIMESTAMP', `${argument} is not a valid ISO-8601 date-time.`));
}

export const DateTimeScalar = new GraphQLScalarType<Date, unknown>({
  name: 'DateTime',
  description: DateTimeResolver.description,
  specifiedByURL: DateTimeResolver.specifiedByURL,
  serialize: (value) => DateTimeResolver.serialize(value),
  parseValue(value) {
    try {
      return DateTimeResolver.parseValue(value) as Date;
    } catch (error) {
      if (typeof value === 'string') return new Date(Number.NaN);
      throw error;
    }
  },
  parseLiteral(node: ValueNode, variables) {
    try {
      return DateTimeResolver.parseLiteral(node, variables) as Date;
    } catch (error) {
      if (node.kind === Kind.STRING) return new Date(Number.NaN);
      throw error;
    }
  },
});
