// A plain HTTP endpoint beside /graphql. The route table is composed in src/http/app.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HeaderReader } from '../auth/caller.js';
import type { Caller } from '../auth/credentials.js';
import type { AuthScope } from '../auth/scopes.js';
import type { Services } from '../composition.js';
import type { RequestLogger } from '../logger.js';

/** The request target, as a route's credentials mapping sees it. */
export interface RouteTarget {
  /** The target's path (as URL parsing reads it). */
  path: string;
  /**
   * The target parsed as a URL (its query in `searchParams`), made on first read: most requests
   * need only `path`, so read it where it is needed, not in a destructuring of the context.
   */
  readonly url: URL;
}

export interface RouteContext extends RouteTarget {
  services: Services;
  /** Resolved from the headers before the route runs. */
  caller: Caller;
  /** The headers the caller was resolved from (after the route's `credentials` mapping). */
  credentials: HeaderReader;
  requestId: string;
  logger: RequestLogger;
}

export interface HttpRoute {
  method: 'GET' | 'POST';
  path: string;
  /** `path` is a prefix (the rest of the path is the route's to read). */
  prefix?: boolean;
  /** Maps a route's own credential headers onto the shared ones before the caller is resolved. */
  credentials?: (headers: HeaderReader, target: RouteTarget) => HeaderReader;
  /** The caller needs one of these (the same table as the GraphQL scopes); checked before `handle`. */
  scopes: AuthScope[];
  handle(req: IncomingMessage, res: ServerResponse, context: RouteContext): Promise<void>;
}
