// Splits a SQL script into statements at top-level semicolons, so that the migrator can
// run them one by one and name the one that failed. Quoted strings, quoted identifiers,
// dollar-quoted bodies and comments are skipped over.
export interface SqlStatement {
  text: string;
  /** 1-based line of the statement's first character in the script. */
  line: number;
}

export function splitSqlStatements(script: string): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let start = 0;
  let i = 0;
  const n = script.length;
  const push = (end: number) => {
    const raw = script.slice(start, end);
    const lead = /^(?:\s+|--[^\n]*(?:\n|$))*/.exec(raw)![0].length;
    const text = raw.slice(lead).trim();
    if (text) {
      const offset = start + lead;
      const line = script.slice(0, offset).split('\n').length;
      statements.push({ text, line });
    }
  };
  while (i < n) {
    const ch = script[i];
    const next = script[i + 1];
    if (ch === '-' && next === '-') {
      const end = script.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
    } else if (ch === '/' && next === '*') {
      const end = script.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
    } else if (ch === "'" || ch === '"') {
      i++;
      while (i < n) {
        if (script[i] === ch) {
          if (script[i + 1] === ch) i += 2;
          else break;
        } else i++;
      }
      i++;
    } else if (ch === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(script.slice(i, i + 64));
      if (tag) {
        const end = script.indexOf(tag[0], i + tag[0].length);
        i = end === -1 ? n : end + tag[0].length;
      } else i++;
    } else if (ch === ';') {
      push(i);
      start = i + 1;
      i++;
    } else i++;
  }
  push(n);
  return statements;
}
