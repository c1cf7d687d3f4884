// GraphQL Code Generator: `npm run codegen` prints the Pothos schema to schema.graphql
// (committed; a test fails when it is stale) and writes typed documents for the
// operations in the tests and examples to test/generated/ (not committed).
// With CODEGEN_DOCUMENTS_ONLY=1 (npm install, npm test) only the typed documents are
// written, typed against the committed schema.graphql.
import type { CodegenConfig } from '@graphql-codegen/cli';

const documentsOnly = process.env.CODEGEN_DOCUMENTS_ONLY === '1';

const typedDocuments: CodegenConfig['generates'][string] = {
  preset: 'client',
  presetConfig: { fragmentMasking: false },
  config: {
    emitLegacyCommonJSImports: false,
    scalars: { DateTime: 'string', JSON: 'unknown', ID: 'string' },
    enumsAsTypes: true,
    useTypeImports: true,
  },
};

const config: CodegenConfig = {
  overwrite: true,
  silent: true,
  // The web example has its own codegen (examples/web/codegen.ts), as a frontend would.
  documents: ['test/**/*.ts', 'src/**/*.test.ts', 'examples/**/*.ts', '!test/generated/**', '!examples/web/**'],
  schema: documentsOnly ? 'schema.graphql' : './src/schema/index.ts',
  generates: documentsOnly
    ? { 'test/generated/': typedDocuments }
    : {
        'schema.graphql': { plugins: ['schema-ast'], config: { includeDirectives: true, sort: true } },
        'test/generated/': typedDocuments,
      },
};

export default config;
