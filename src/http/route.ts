// A plain HTTP endpoint beside /graphql. The route table is composed in src/http/app.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { HeaderReader } from '../auth/caller.js';
import type { Caller } from '../auth/credentials.js';
import type { AuthScope } from '../auth/scopes.js';
import type { Services } from '../composition.js';

export interface RouteContext {
  services: Services;
  /** Resolved from the headers before the route runs. */
  caller: Caller;
  /** The headers the caller was resolved from (after the route's `credentials` mapping). */
  credentials: HeaderReader;
  requestId: string;
  logger: Logger;
  url: URL;
}

export interface HttpRoute {
  method: 'GET' | 'POST';
  path: string;
  /** `path` is a prefix (the rest of the path is the route's to read). */
  prefix?: boolean;
  /** Maps a route's own credential headers onto the shared ones before the caller is resolved. */
  credentials?: (headers: HeaderReader, url: URL) => HeaderReader;
  /** The caller needs one of these (the same table as the GraphQL scopes); checked before `handle`. */
  scopes: AuthScope[];
  handle(req: IncomingMessage, res: ServerResponse, context: RouteContext): Promise<void>;
}
