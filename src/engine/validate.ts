/**
 * Write-path validation of segment rule trees. Everything it accepts evaluates in the
 * reference engine without raising and in this engine exactly; what it refuses comes back as
 * data, each problem with the path into the input (`[0, 'conditions', 2, 'value']`).
 *
 * Refused: a rule or condition that is not an object, an unknown rule type or operator, a
 * property that is not a string, a value of the wrong type, a REGEX that Python's `re`
 * refuses (or that uses a construct JavaScript's RegExp cannot run: scoped inline flags,
 * conditionals, `\N{...}`, a backreference to a group that may not have participated or
 * under IGNORECASE), a MODULO value other than `divisor|remainder` with a nonzero
 * divisor, a PERCENTAGE_SPLIT value that is not a number, a `:semver` value that is not a
 * semantic version, a JSONPath property with a filter selector (the reference's JSONPath
 * library raises on some filter functions depending on trait data), strings PostgreSQL
 * cannot store (NUL, lone surrogates), nesting deeper than 10 rules, more than 100
 * conditions in total.
 */
import { compileJsonPath } from './jsonpath.js';
import { operatorCode, OP_IN, OP_IS_NOT_SET, OP_IS_SET, OP_MODULO, OP_NOT_CONTAINS, OP_PERCENTAGE_SPLIT, OP_REGEX, OP_UNKNOWN } from './operators.js';
import { parsePyFloat } from './python.js';
import { compilePythonRegex, pythonRegexProblem } from './pyregex.js';
import { parseSemver, SEMVER_SUFFIX } from './semver.js';

export const MAX_RULE_DEPTH = 10;
export const MAX_CONDITIONS = 100;

export interface SegmentRuleProblem {
  path: (string | number)[];
  message: string;
}

const RULE_TYPES = new Set(['ALL', 'ANY', 'NONE']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** NUL or a lone surrogate: text PostgreSQL refuses and Python cannot encode as UTF-8. */
function unstorable(s: string): boolean {
  return /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

function checkString(s: string, path: (string | number)[], out: SegmentRuleProblem[]): boolean {
  if (unstorable(s)) {
    out.push({ path, message: 'must not contain NUL characters or unpaired surrogates' });
    return false;
  }
  return true;
}

function checkCondition(condition: unknown, path: (string | number)[], out: SegmentRuleProblem[]): void {
  if (!isRecord(condition)) {
    out.push({ path, message: 'a condition must be an object' });
    return;
  }
  const op = operatorCode(condition.operator);
  if (op === OP_UNKNOWN) {
    out.push({ path: [...path, 'operator'], message: `unknown operator ${JSON.stringify(condition.operator) ?? 'undefined'}` });
    return;
  }
  const property = condition.property;
  if (typeof property !== 'string') {
    out.push({ path: [...path, 'property'], message: 'property is required and must be a string' });
  } else if (checkString(property, [...path, 'property'], out) && property.startsWith('$.')) {
    const compiled = compileJsonPath(property);
    if (compiled !== null && compiled.segments.some((seg) => seg.selectors.some((sel) => sel.kind === 'filter'))) {
      out.push({ path: [...path, 'property'], message: 'JSONPath filter selectors ([?...]) are not supported' });
    }
  }

  const value = condition.value;
  const valuePath = [...path, 'value'];
  if (op === OP_IS_SET || op === OP_IS_NOT_SET) {
    if (typeof value === 'string') checkString(value, valuePath, out);
    else if (value !== undefined && value !== null) out.push({ path: valuePath, message: 'value must be a string or absent' });
    return;
  }
  if (op === OP_IN && Array.isArray(value)) {
    value.forEach((v, i) => {
      if (typeof v !== 'string') out.push({ path: [...valuePath, i], message: 'IN values must be strings' });
      else checkString(v, [...valuePath, i], out);
    });
    return;
  }
  if (typeof value !== 'string') {
    out.push({ path: valuePath, message: op === OP_IN ? 'value must be a string or a list of strings' : 'value must be a string' });
    return;
  }
  if (!checkString(value, valuePath, out)) return;
  switch (op) {
    case OP_REGEX:
      if (compilePythonRegex(value) === null) {
        out.push({ path: valuePath, message: pythonRegexProblem(value) ?? 'not a regular expression Python accepts' });
      }
      return;
    case OP_MODULO: {
      const parts = value.split('|');
      const divisor = parts.length === 2 ? parsePyFloat(parts[0]) : undefined;
      const remainder = parts.length === 2 ? parsePyFloat(parts[1]) : undefined;
      if (divisor === undefined || remainder === undefined) {
        out.push({ path: valuePath, message: 'MODULO value must be "divisor|remainder", two numbers' });
      } else if (divisor === 0) {
        out.push({ path: valuePath, message: 'MODULO divisor must not be zero' });
      }
      return;
    }
    case OP_PERCENTAGE_SPLIT:
      if (parsePyFloat(value) === undefined) out.push({ path: valuePath, message: 'PERCENTAGE_SPLIT value must be a number' });
      return;
    case OP_IN:
    case OP_NOT_CONTAINS:
      return;
    default:
      if (value.endsWith(SEMVER_SUFFIX) && parseSemver(value.slice(0, -SEMVER_SUFFIX.length)) === undefined) {
        out.push({ path: valuePath, message: 'not a semantic version before ":semver"' });
      }
  }
}

/** Problems with a segment's rule tree (`SegmentContext.rules`); empty when it can be stored. */
export function validateSegmentRules(rules: unknown): SegmentRuleProblem[] {
  const out: SegmentRuleProblem[] = [];
  if (!Array.isArray(rules)) return [{ path: [], message: 'rules must be a list' }];
  let conditions = 0;
  let tooDeep = false;
  const visit = (rule: unknown, path: (string | number)[], depth: number): void => {
    if (depth > MAX_RULE_DEPTH) {
      if (!tooDeep) out.push({ path, message: `rules nest deeper than ${MAX_RULE_DEPTH} levels` });
      tooDeep = true;
      return;
    }
    if (!isRecord(rule)) {
      out.push({ path, message: 'a rule must be an object' });
      return;
    }
    if (typeof rule.type !== 'string' || !RULE_TYPES.has(rule.type)) {
      out.push({ path: [...path, 'type'], message: `unknown rule type ${JSON.stringify(rule.type) ?? 'undefined'}; expected ALL, ANY or NONE` });
    }
    if (rule.conditions !== undefined && rule.conditions !== null) {
      if (!Array.isArray(rule.conditions)) out.push({ path: [...path, 'conditions'], message: 'conditions must be a list' });
      else {
        conditions += rule.conditions.length;
        rule.conditions.forEach((c, i) => checkCondition(c, [...path, 'conditions', i], out));
      }
    }
    if (rule.rules !== undefined && rule.rules !== null) {
      if (!Array.isArray(rule.rules)) out.push({ path: [...path, 'rules'], message: 'rules must be a list' });
      else rule.rules.forEach((r, i) => visit(r, [...path, 'rules', i], depth + 1));
    }
  };
  rules.forEach((r, i) => visit(r, [i], 1));
  if (conditions > MAX_CONDITIONS) out.push({ path: [], message: `more than ${MAX_CONDITIONS} conditions (${conditions})` });
  return out;
}
