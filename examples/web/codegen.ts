// GraphQL Code Generator for a frontend: typed documents for its operations, and the trusted
// documents map the server takes as PERSISTED_OPERATIONS (`persisted-documents.json`, by sha256).
// `npm run persisted-operations` runs it for this example; another frontend points
// FRONTEND_DOCUMENTS (a glob of its sources) and FRONTEND_GENERATED (an output folder) at itself.
import type { CodegenConfig } from '@graphql-codegen/cli';

const generated = process.env.FRONTEND_GENERATED ?? 'examples/web/src/gql/';
const documents = process.env.FRONTEND_DOCUMENTS ?? 'examples/web/src/**/*.ts';

const config: CodegenConfig = {
  overwrite: true,
  silent: true,
  schema: 'schema.graphql',
  documents: [documents, `!${generated.replace(/\/?$/, '/')}**`],
  generates: {
    [generated]: {
      preset: 'client',
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
      config: { emitLegacyCommonJSImports: false, scalars: { JSON: 'unknown', DateTime: 'string', ID: 'string' }, enumsAsTypes: true, useTypeImports: true },
    },
  },
};

export default config;
