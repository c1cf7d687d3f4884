// Builds the example from its sources: GraphQL Code Generator (typed documents and the trusted
// documents map), then esbuild (one browser bundle). Used by `npm run web` and the tests.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import { build } from 'esbuild';
import codegenConfig from './codegen.js';

const here = fileURLToPath(new URL('.', import.meta.url));
export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
/** The trusted documents of this page: PERSISTED_OPERATIONS for a server it talks to. */
export const PERSISTED_DOCUMENTS = `${here}src/gql/persisted-documents.json`;

export interface WebExample {
  html: string;
  script: string;
}

export async function buildWebExample(): Promise<WebExample> {
  const cwd = process.cwd();
  // The codegen config names paths from the project root, as `npm run persisted-operations` runs it.
  process.chdir(projectRoot);
  try {
    await generate({ ...codegenConfig, cwd: projectRoot }, true);
  } finally {
    process.chdir(cwd);
  }
  const result = await build({
    entryPoints: [`${here}src/main.ts`],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
  });
  return { html: await readFile(`${here}index.html`, 'utf8'), script: result.outputFiles[0].text };
}
