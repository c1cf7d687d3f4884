// One check of everything a GraphQL request carries, before it runs:
// - text must be valid Unicode without NUL: PostgreSQL refuses NUL and unpaired surrogates
//   in text and jsonb, and a lenient decoder would turn distinct inputs into the same U+FFFD
//   (two real events would then look like one). Such input is refused, never rewritten;
// - JSON values nest at most INPUT_JSON_DEPTH_MAX levels, so nothing downstream recurses
//   deeper than that. The walks here are iterative;
// - variables inside JSON literals (`initialValue: { headline: $h }`) are substituted:
//   compiled execution (graphql-jit) parses literals once, without the variables, so each such
//   literal becomes a variable of its own whose value is computed per request exactly as
//   graphql-js computes it (coerced variables, `valueFromAST`).
// The raw request (body bytes, query string) is checked in app.ts with the helpers below.
import {
  type ASTNode,
  BREAK,
  type DocumentNode,
  getNamedType,
  getNullableType,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  type GraphQLInputType,
  type GraphQLSchema,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  Kind,
  type OperationDefinitionNode,
  parseType,
  typeFromAST,
  TypeInfo,
  valueFromAST,
  type ValueNode,
  type VariableDefinitionNode,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { echo, shortenMessage } from '../errors/echo.js';
import { CHECKS_OWN_TEXT } from '../schema/extensions.js';


function checksOwnText(type: GraphQLInputType | null | undefined): boolean {
  return !!type && getNamedType(type).extensions?.[CHECKS_OWN_TEXT] === true;
}

/** The deepest nesting of objects and lists a JSON value may have (`{}` and `[]` are 1). */
export const INPUT_JSON_DEPTH_MAX = 32;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a string cannot be taken, or undefined when it can. */
export function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL character (U+0000)';
  if (LONE_SURROGATE.test(text)) return 'contains an unpaired surrogate (not valid Unicode)';
  return undefined;
}

function invalidInput(message: string, nodes?: ASTNode): GraphQLError {
  return new GraphQLError(message, { nodes, extensions: { code: 'INVALID_INPUT' } });
}

function segment(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `[${JSON.stringify(echo(key))}]`;
}

// ---------------------------------------------------------------------------------------
// Raw requests

/**
 * Why a percent-encoded query (a URL's query string or a form body) cannot be taken: bytes
 * that are not UTF-8 (URLSearchParams would turn them into U+FFFD), or NUL.
 */
export function percentEncodedProblem(query: string): string | undefined {
  for (const part of query.split('&')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(part.replace(/\+/g, ' '));
    } catch {
      return 'The query string is not valid percent-encoded UTF-8.';
    }
    if (decoded.includes('\u0000')) return 'The query string contains a NUL character (%00).';
  }
  return undefined;
}

/** Why a request target (`req.url`) cannot be taken, or undefined. */
export function requestTargetProblem(target: string): string | undefined {
  if (/[^\x21-\x7e]/.test(target)) return 'The request target has characters that must be percent-encoded.';
  const query = target.indexOf('?');
  return query < 0 ? undefined : percentEncodedProblem(target.slice(query + 1));
}

// ---------------------------------------------------------------------------------------
// Variables

interface Pending {
  value: unknown;
  /** The GraphQL input type of this place; undefined inside JSON or where none applies. */
  type: GraphQLInputType | undefined;
  path: string;
  /** Nesting inside the JSON value this place belongs to; -1 outside JSON. */
  json: number;
  /** Path of that JSON value. */
  root: string;
  /** A string field of a CHECKS_OWN_TEXT type. */
  ownText?: boolean;
}

/** The first problem in the request's variables, walked along their declared types. */
export function checkVariables(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode | null | undefined,
  variables: Readonly<Record<string, unknown>> | null | undefined,
): GraphQLError | undefined {
  if (!variables || typeof variables !== 'object') return undefined;
  const declared = new Map<string, GraphQLInputType | undefined>();
  for (const definition of operation?.variableDefinitions ?? []) {
    declared.set(definition.variable.name.value, typeFromAST(schema, definition.type) as GraphQLInputType | undefined);
  }
  const stack: Pending[] = [];
  for (const name of Object.keys(variables)) {
    const problem = textProblem(name);
    if (problem) return invalidInput(`A variable name ${problem}.`);
    const path = `$${echo(name)}`;
    stack.push({ value: variables[name], type: declared.get(name), path, json: -1, root: path });
  }
  while (stack.length) {
    const { value, type: declaredType, path, json, root, ownText } = stack.pop()!;
    if (typeof value === 'string' && !ownText) {
      const problem = textProblem(value);
      if (problem) return invalidInput(`Variable "${path}" ${problem}.`);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    const type = declaredType && isNonNullType(declaredType) ? declaredType.ofType : declaredType;
    if (json < 0 && type && isListType(type)) {
      if (Array.isArray(value)) value.forEach((item, index) => stack.push({ value: item, type: type.ofType, path: `${path}[${index}]`, json, root }));
      else stack.push({ value, type: type.ofType, path, json, root });
      continue;
    }
    if (json < 0 && type && isInputObjectType(type) && !Array.isArray(value)) {
      const fields = type.getFields();
      const ownText = checksOwnText(type);
      for (const [key, field] of Object.entries(value)) {
        const problem = textProblem(key);
        if (problem) return invalidInput(`A field name in "${path}" ${problem}.`);
        stack.push({ value: field, type: fields[key]?.type, path: path + segment(key), json, root, ownText });
      }
      continue;
    }
    // A JSON value (a leaf type, or a place no input type describes): bounded nesting.
    const jsonRoot = json < 0 ? path : root;
    const depth = Math.max(json, 0) + 1;
    if (depth > INPUT_JSON_DEPTH_MAX) {
      return invalidInput(`"${jsonRoot}" nests objects and lists deeper than ${INPUT_JSON_DEPTH_MAX} levels.`);
    }
    if (Array.isArray(value)) {
      value.forEach((item, index) => stack.push({ value: item, type: undefined, path: `${path}[${index}]`, json: depth, root: jsonRoot }));
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      const problem = textProblem(key);
      if (problem) return invalidInput(`A key in "${path}" ${problem}.`);
      stack.push({ value: item, type: undefined, path: path + segment(key), json: depth, root: jsonRoot });
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// The document

interface JsonLiteral {
  node: ValueNode;
  /** The input type of its place (a leaf type). */
  type: GraphQLInputType;
}

interface Analysis {
  error?: GraphQLError;
  /** The document with every JSON literal that holds variables turned into a variable. */
  rewrite?: { document: DocumentNode; literals: (JsonLiteral & { name: string })[] };
}

type Ancestor = ASTNode | readonly ASTNode[];

/** Names the place of a literal: `Argument "input.options[0].name" of "createFeature"`. */
function describeLiteral(chain: readonly Ancestor[], path: readonly (string | number)[]): string {
  let field = '';
  let argument: string | undefined;
  chain.forEach((ancestor, index) => {
    if (Array.isArray(ancestor)) {
      const owner = chain[index - 1];
      if (argument !== undefined && owner && !Array.isArray(owner) && (owner as ASTNode).kind === Kind.LIST) argument += `[${path[index]}]`;
      return;
    }
    const node = ancestor as ASTNode;
    if (node.kind === Kind.FIELD) [field, argument] = [node.name.value, undefined];
    else if (node.kind === Kind.DIRECTIVE) [field, argument] = [`@${node.name.value}`, undefined];
    else if (node.kind === Kind.VARIABLE_DEFINITION) [field, argument] = ['', undefined];
    else if (node.kind === Kind.ARGUMENT) argument = node.name.value;
    else if (node.kind === Kind.OBJECT_FIELD && argument !== undefined) argument += segment(node.name.value);
  });
  return argument === undefined ? 'A value in the document' : `Argument "${argument}" of "${field}"`;
}

function analyse(schema: GraphQLSchema, document: DocumentNode): Analysis {
  const typeInfo = new TypeInfo(schema);
  const literals: JsonLiteral[] = [];
  let error: GraphQLError | undefined;
  // The JSON literal being walked (depth 0: none).
  let depth = 0;
  let root: JsonLiteral | undefined;
  let rootHasVariables = false;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      enter(node, key, parent, path, ancestors) {
        const chain = parent === undefined ? ancestors : [...ancestors, parent];
        if (node.kind === Kind.STRING) {
          const problem = depth === 0 && checksOwnText(typeInfo.getParentInputType()) ? undefined : textProblem(node.value);
          if (!problem) return undefined;
          error = invalidInput(`${describeLiteral(chain, path)} ${problem}.`, node);
          return BREAK;
        }
        if (node.kind === Kind.VARIABLE) {
          if (depth > 0) rootHasVariables = true;
          return undefined;
        }
        if (node.kind !== Kind.OBJECT && node.kind !== Kind.LIST) return undefined;
        if (depth === 0) {
          // On entering a list TypeInfo already points at its items: the list's own place is the parent.
          const type = node.kind === Kind.LIST ? typeInfo.getParentInputType() : typeInfo.getInputType();
          if (!type || !isLeafType(getNullableType(type))) return undefined;
          root = { node, type };
          rootHasVariables = false;
        }
        depth++;
        if (depth > INPUT_JSON_DEPTH_MAX) {
          error = invalidInput(`${describeLiteral(chain, path)} nests objects and lists deeper than ${INPUT_JSON_DEPTH_MAX} levels.`, root?.node);
          return BREAK;
        }
        return undefined;
      },
      leave(node) {
        if ((node.kind !== Kind.OBJECT && node.kind !== Kind.LIST) || depth === 0) return;
        depth--;
        if (depth === 0 && rootHasVariables && root) literals.push(root);
      },
    }),
  );
  if (error) return { error };
  return literals.length ? { rewrite: rewriteLiterals(document, literals) } : {};
}

function rewriteLiterals(document: DocumentNode, literals: JsonLiteral[]): NonNullable<Analysis['rewrite']> {
  const taken = new Set<string>();
  visit(document, {
    Variable(node) {
      taken.add(node.name.value);
    },
  });
  let serial = 0;
  const named = literals.map((literal) => {
    let name: string;
    do name = `jsonLiteral${serial++}`;
    while (taken.has(name));
    return { ...literal, name };
  });
  const byNode = new Map<ASTNode, string>(named.map((literal) => [literal.node, literal.name]));
  const definitions: VariableDefinitionNode[] = named.map((literal) => ({
    kind: Kind.VARIABLE_DEFINITION,
    variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: literal.name } },
    type: parseType(String(literal.type)),
  }));
  const rewritten = visit(document, {
    enter(node) {
      const name = byNode.get(node);
      return name === undefined ? undefined : { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: name } };
    },
    OperationDefinition: {
      leave(operation) {
        return { ...operation, variableDefinitions: [...(operation.variableDefinitions ?? []), ...definitions] };
      },
    },
  });
  return { document: rewritten, literals: named };
}

const analyses = new WeakMap<DocumentNode, Analysis>();

function analysisOf(schema: GraphQLSchema, document: DocumentNode): Analysis {
  let analysis = analyses.get(document);
  if (!analysis) {
    analysis = analyse(schema, document);
    analyses.set(document, analysis);
  }
  return analysis;
}

// ---------------------------------------------------------------------------------------
// The plugin

/** The arguments of an execution or a subscription that this plugin reads and may replace. */
interface OperationArgs {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  variableValues?: { readonly [name: string]: unknown } | null;
}

/** Refuses bad input (NUL, lone surrogates, JSON too deep), and moves JSON literals holding variables into variables of their own. */
function checkAndRewrite(args: OperationArgs, stop: (result: { errors: GraphQLError[] }) => void): undefined {
  const analysis = analysisOf(args.schema, args.document);
  const operation = getOperationAST(args.document, args.operationName);
  const error = analysis.error ?? checkVariables(args.schema, operation, args.variableValues ?? undefined);
  if (error) {
    stop({ errors: [error] });
    return undefined;
  }
  const { rewrite } = analysis;
  if (!rewrite || !operation) return undefined;
  const { coerced } = getVariableValues(args.schema, operation.variableDefinitions ?? [], args.variableValues ?? {}, { maxErrors: 1 });
  // Bad variables: leave the document as it is, execution reports them.
  if (!coerced) return undefined;
  const values: Record<string, unknown> = { ...args.variableValues };
  for (const literal of rewrite.literals) values[literal.name] = valueFromAST(literal.node, literal.type, coerced);
  args.document = rewrite.document;
  args.variableValues = values;
  return undefined;
}

/**
 * A result whose error messages are shortened. Errors may be frozen (graphql-js freezes some it
 * builds): they are answered with shortened copies. A function of the module, not a closure made
 * per result: tsx keeps function names, which costs a property definition per closure made.
 */
function shortenErrors(single: { errors?: readonly GraphQLError[] }): { errors?: readonly GraphQLError[] } {
  if (!single.errors?.some((error) => shortenMessage(error.message) !== error.message)) return single;
  const errors = single.errors.map((error) => {
    const message = shortenMessage(error.message);
    if (message === error.message) return error;
    return new GraphQLError(message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      originalError: error.originalError,
      extensions: error.extensions,
    });
  });
  return { ...single, errors };
}

/** Checks every operation's input before it runs (see the top of this file). */
export function useInputIntegrity(): Plugin {
  return {
    onExecute: ({ args, setResultAndStopExecution }) => checkAndRewrite(args, setResultAndStopExecution),
    // Subscriptions take the same input (flagsChanged's traits): the same checks, the same rewrite.
    onSubscribe: ({ args, setResultAndStopExecution }) => checkAndRewrite(args, setResultAndStopExecution),
    onResultProcess({ result, setResult }) {
      if (Symbol.asyncIterator in Object(result)) return;
      const processed = Array.isArray(result) ? result.map((single) => shortenErrors(single as never)) : shortenErrors(result as never);
      if (processed !== result) setResult(processed as never);
    },
  };
}
