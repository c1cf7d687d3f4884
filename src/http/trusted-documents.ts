// Trusted documents (SPEC.md section 11): with PERSISTED_OPERATIONS set, client keys and
// anonymous callers run only the listed documents, named by hash; tokens may send any document.
// Yoga's persisted-operations plugin does the work; this decides who may send arbitrary ones.
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { parse, validate } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Caller } from '../auth/credentials.js';
import { ConfigError, type Config } from '../config.js';
import { schema } from '../schema/index.js';

/** The document's id: `extensions.persistedQuery.sha256Hash` (APQ style) or GraphQL over HTTP's `documentId`. */
export function persistedDocumentId(params: { extensions?: unknown; documentId?: unknown }): string | null {
  const persisted = (params.extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | undefined)?.persistedQuery;
  const id = persisted && typeof persisted === 'object' && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : params.documentId;
  // Codegen's ids read `sha256:<hex>`; the map is keyed by the hex.
  return typeof id === 'string' ? id.replace(/^sha256:/, '') : null;
}

/** Every listed document must be valid against this schema: a stale map fails the start, not a user. */
export function checkPersistedOperations(operations: ReadonlyMap<string, string>): void {
  for (const [hash, document] of operations) {
    const errors = validate(schema, parse(document));
    if (errors.length) throw new ConfigError(`PERSISTED_OPERATIONS: the document of ${hash} is not valid against this server's schema: ${errors[0].message}`);
  }
}

function refusal(code: 'PERSISTED_QUERY_NOT_FOUND' | 'PERSISTED_QUERY_ONLY' | 'BAD_REQUEST', message: string) {
  return { message, extensions: { code, http: { status: 400 } } };
}

export function trustedDocuments(config: Config, callerOf: (request: Request) => Caller | Promise<Caller>): Plugin {
  const operations = config.persistedOperations;
  if (!operations) return {};
  checkPersistedOperations(operations);
  return usePersistedOperations({
    getPersistedOperation: (hash) => operations.get(hash) ?? null,
    extractPersistedOperationId: (params) => persistedDocumentId(params as never),
    // Only a valid token may send its own documents. Rejected credentials may too: they are
    // answered UNAUTHENTICATED as ever, so a wrong key is told so rather than "persisted only".
    allowArbitraryOperations: async (request) => {
      const caller = await callerOf(request);
      return caller.kind === 'token' || (caller.kind === 'anonymous' && caller.rejected);
    },
    customErrors: {
      notFound: refusal('PERSISTED_QUERY_NOT_FOUND', 'No trusted document has this id: run a document the server lists (PERSISTED_OPERATIONS).'),
      persistedQueryOnly: refusal(
        'PERSISTED_QUERY_ONLY',
        'This server runs only trusted documents for client keys: send the id of a listed document (extensions.persistedQuery.sha256Hash or documentId), not its text.',
      ),
      keyNotFound: refusal('BAD_REQUEST', 'Send a trusted document id (extensions.persistedQuery.sha256Hash or documentId) or, with a token, a query.'),
    },
  });
}
