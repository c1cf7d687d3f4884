// LIKE / ILIKE patterns: a "contains" filter matches its text literally, so the pattern
// characters `%` and `_` and the escape character `\` are escaped first.
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
