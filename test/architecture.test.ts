// The layout README's "Architecture" section describes, held against the code's imports (madge
// reads them as the TypeScript compiler resolves them): no circles, and arrows only go down.
import madge from 'madge';
import { beforeAll, describe, expect, it } from 'vitest';

/** Top-level parts of src/, bottom first. */
const ENGINE = ['engine'];
const FOUNDATION = ['engine', 'config.ts', 'logger.ts', 'errors', 'db', 'identities'];
const DOMAINS = ['projects', 'tokens', 'features', 'evaluation', 'exposures', 'analytics', 'targeting', 'audit'];
const TOP = ['http', 'composition.ts', 'server.ts', 'seed'];

const part = (file: string) => file.split('/')[0];

describe('architecture', () => {
  let graph: Record<string, string[]>;
  let circles: string[][];

  beforeAll(async () => {
    const result = await madge('src', {
      fileExtensions: ['ts'],
      // Generated code and tests are not part of the layering.
      excludeRegExp: [/^generated\//, /\.test\.ts$/],
      tsConfig: 'tsconfig.json',
    });
    graph = result.obj();
    circles = result.circular();
  });

  const arrows = (from: string[], to: string[]) =>
    Object.entries(graph).flatMap(([file, imports]) =>
      from.includes(part(file)) ? imports.filter((target) => to.includes(part(target)) && part(target) !== part(file)).map((target) => `${file} -> ${target}`) : [],
    );

  it('has no import circles', () => {
    expect(Object.keys(graph).length).toBeGreaterThan(50);
    expect(circles).toEqual([]);
  });

  it('keeps the engine pure: it imports nothing of ours outside src/engine', () => {
    const all = [...new Set(Object.keys(graph).map(part))];
    expect(arrows(ENGINE, all)).toEqual([]);
  });

  it('keeps the foundation below the domains, the schema and HTTP', () => {
    expect(arrows(FOUNDATION, [...DOMAINS, ...TOP, 'schema', 'auth', 'context.ts'])).toEqual([]);
  });

  it('lets no domain reach up into HTTP, the composition root or the server', () => {
    expect(arrows(DOMAINS, TOP)).toEqual([]);
    expect(arrows(['schema', 'auth'], TOP)).toEqual([]);
  });

  it('lets nothing import the entry point', () => {
    expect(Object.entries(graph).filter(([, imports]) => imports.includes('server.ts'))).toEqual([]);
  });
});
