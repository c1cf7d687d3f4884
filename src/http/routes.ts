// Plain HTTP endpoints beside /graphql. Domains add theirs here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Services } from '../context.js';
import { exposureExportRoute } from '../analytics/export.js';

export interface RouteContext {
  services: Services;
  requestId: string;
  logger: Logger;
  url: URL;
}

export interface HttpRoute {
  method: 'GET' | 'POST';
  path: string;
  handle(req: IncomingMessage, res: ServerResponse, context: RouteContext): Promise<void>;
}

export const routes: HttpRoute[] = [];
routes.push(exposureExportRoute);
