// Size limits on a GraphQL document, checked with graphql-js's lexer before anything parses,
// validates or compiles it: parsing recurses once per nesting level, and validation and
// compiled execution cost grows faster than the document (many aliases, many repeats of one
// field). The scan is one loop with an explicit stack and stops at the first limit exceeded,
// so its time depends on the limits, not on how far a document goes past them.
import { Lexer, Source, TokenKind } from 'graphql';

export interface DocumentLimits {
  /** Lexical tokens (names, punctuation, values), as graphql-js's `maxTokens` counts them. */
  maxTokens: number;
  /** Aliases (`name: field`) in selection sets. */
  maxAliases: number;
  /** Field selections, counted where they are written (each alias, each repeat). */
  maxFields: number;
  /** Open `{`, `[` and `(` at once: selection sets and the literals inside arguments. */
  maxNesting: number;
}

export interface DocumentLimitExceeded {
  limit: keyof DocumentLimits;
  max: number;
  message: string;
}

type Frame = 'selection' | 'value' | 'paren';

/** The first limit the document exceeds, or null (syntax errors are left to the parser). */
export function exceededDocumentLimit(query: string, limits: DocumentLimits): DocumentLimitExceeded | null {
  const lexer = new Lexer(new Source(query));
  const stack: Frame[] = [];
  let tokens = 0;
  let aliases = 0;
  let fields = 0;
  // Kinds of the two tokens before the current one, to tell fields from fragment spreads,
  // type conditions, directive names and aliases' field names.
  let previous: TokenKind | undefined;
  let beforePrevious: TokenKind | undefined;
  let previousValue: string | undefined;
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (++tokens > limits.maxTokens) return exceeded('maxTokens', limits, 'tokens');
      switch (token.kind) {
        case TokenKind.BRACE_L: {
          const top = stack[stack.length - 1];
          stack.push(top === undefined || top === 'selection' ? 'selection' : 'value');
          if (stack.length > limits.maxNesting) return exceeded('maxNesting', limits, 'levels of nesting');
          break;
        }
        case TokenKind.BRACKET_L:
        case TokenKind.PAREN_L:
          stack.push(token.kind === TokenKind.PAREN_L ? 'paren' : 'value');
          if (stack.length > limits.maxNesting) return exceeded('maxNesting', limits, 'levels of nesting');
          break;
        case TokenKind.BRACE_R:
        case TokenKind.BRACKET_R:
        case TokenKind.PAREN_R:
          stack.pop();
          break;
        case TokenKind.COLON:
          if (stack[stack.length - 1] === 'selection' && previous === TokenKind.NAME) {
            if (++aliases > limits.maxAliases) return exceeded('maxAliases', limits, 'aliases');
            // The alias was counted as a field; its field name that follows is not counted again.
            fields--;
          }
          break;
        case TokenKind.NAME:
          if (stack[stack.length - 1] === 'selection' && isFieldPosition(previous, beforePrevious, previousValue)) {
            if (++fields > limits.maxFields) return exceeded('maxFields', limits, 'field selections');
          }
          break;
        default:
          break;
      }
      beforePrevious = previous;
      previous = token.kind;
      previousValue = token.value;
    }
  } catch {
    return null;
  }
  return null;
}

/**
 * A name inside a selection set is a field (or an alias) unless it names a directive
 * (`@name`), a fragment (`...Name`), the `on` of an inline fragment or its type condition.
 */
function isFieldPosition(previous: TokenKind | undefined, beforePrevious: TokenKind | undefined, previousValue: string | undefined): boolean {
  if (previous === TokenKind.AT || previous === TokenKind.SPREAD) return false;
  if (previous === TokenKind.NAME && previousValue === 'on' && beforePrevious === TokenKind.SPREAD) return false;
  return true;
}

function exceeded(limit: keyof DocumentLimits, limits: DocumentLimits, what: string): DocumentLimitExceeded {
  return { limit, max: limits[limit], message: `Query document is too large: more than ${limits[limit]} ${what}.` };
}
