// A real flagledger HTTP server on a scratch database, for tests that go through the
// public surface: GraphQL over HTTP with typed documents from codegen.ts.
import type { AddressInfo } from 'node:net';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { pino } from 'pino';
import { type Config, loadConfig } from '../../src/config.js';
import { compose, type Services } from '../../src/composition.js';
import { createApp, type App } from '../../src/http/app.js';
import { newTokenSecret } from '../../src/auth/credentials.js';
import { seedIfEmpty } from '../../src/seed/demo.js';
import { createApiToken } from '../../src/tokens/service.js';
import { migratedDatabase, type TestDatabase, type TestDatabaseKind } from './databases.js';

export interface Credentials {
  /** Bearer token secret. */
  token?: string;
  /** X-Environment-Key. */
  environmentKey?: string;
  headers?: Record<string, string>;
}

export interface GraphQLResponse<T> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}

export interface TestServer {
  url: string;
  database: TestDatabase;
  services: Services;
  app: App;
  /** Secret of an ADMIN token. */
  adminToken: string;
  /** Secret of an ANALYTICS token. */
  analyticsToken: string;
  /** Demo project seeded on start, as created by the first start of `npm start`. */
  demo: { environments: { name: string; key: string }[] };
  /** Runs a typed document; `as` defaults to the admin token. */
  request<R, V>(document: TypedDocumentNode<R, V>, variables?: V, as?: Credentials): Promise<GraphQLResponse<R>>;
  /** Like request, but fails the test on GraphQL errors and returns data. */
  data<R, V>(document: TypedDocumentNode<R, V>, variables?: V, as?: Credentials): Promise<R>;
  /** What the server's services did, counted (cache and identity-store behaviour). */
  counters: { configLoads: number; identityStatements: number; identityReads: number };
  /** A raw POST to /graphql with any body and headers. */
  post(body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  config?: Partial<Config>;
  /** Serve an existing database (e.g. a second server on the same PostgreSQL). */
  database?: TestDatabase;
  /** Do not close the database with the server. */
  keepDatabase?: boolean;
  /** The clock of evaluation's identity bookkeeping (default: Date.now). */
  identityClock?: () => number;
}

export async function startTestServer(kind: TestDatabaseKind, options: TestServerOptions = {}): Promise<TestServer> {
  const database = options.database ?? (await migratedDatabase(kind));
  const adminSecret = newTokenSecret();
  const config: Config = { ...loadConfig({}), port: 0, host: '127.0.0.1', adminToken: adminSecret, ...options.config };
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const counters = { configLoads: 0, identityStatements: 0, identityReads: 0 };
  const services = compose(config, database.db, logger, {
    onConfigLoad: () => void counters.configLoads++,
    onIdentityStatement: () => void counters.identityStatements++,
    onIdentityRead: () => void counters.identityReads++,
    identityClock: options.identityClock,
  });
  const seed = await seedIfEmpty(services);
  let adminToken = adminSecret;
  if (!seed) adminToken = (await createApiToken(services.prisma, { name: 'test admin', scopes: ['ADMIN'] })).secret;
  const analyticsToken = (await createApiToken(services.prisma, { name: 'test analytics', scopes: ['ANALYTICS'] })).secret;
  const demoEnvironments =
    seed?.environments ??
    (await services.prisma.environment.findMany({ where: { project: { name: 'Demo' } }, orderBy: { id: 'asc' } })).map(
      ({ name, key }) => ({ name, key }),
    );
  const app = createApp(services);
  await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  const headersFor = (as: Credentials | undefined): Record<string, string> => {
    const who = as ?? { token: adminToken };
    return {
      'content-type': 'application/json',
      ...(who.token ? { authorization: `Bearer ${who.token}` } : {}),
      ...(who.environmentKey ? { 'x-environment-key': who.environmentKey } : {}),
      ...who.headers,
    };
  };

  const server: TestServer = {
    url,
    database,
    services,
    app,
    adminToken,
    analyticsToken,
    demo: { environments: demoEnvironments },
    counters,
    async request(document, variables, as) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: headersFor(as),
        body: JSON.stringify({ query: print(document), variables: variables ?? {} }),
      });
      const body = (await response.json()) as Omit<GraphQLResponse<never>, 'status'>;
      return { status: response.status, ...body } as never;
    },
    async data(document, variables, as) {
      const result = await server.request(document, variables, as);
      if (result.errors?.length || !result.data) {
        throw new Error(`GraphQL request failed: ${JSON.stringify(result.errors ?? result)}`);
      }
      return result.data;
    },
    post(body, headers) {
      return fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    async close() {
      await app.drain(1000);
      if (!options.keepDatabase) await database.dispose();
    },
  };
  return server;
}
