// The page: reads the flags of one user with urql, shows the variant of one multivariate flag
// (the checkout button), records its exposure once, and follows changes live through the
// `flagsChanged` subscription (GraphQL over SSE with the graphql-sse client). Every operation
// goes out as a trusted document id (@urql/exchange-persisted with codegen's hashes), so the
// server can run with PERSISTED_OPERATIONS.
import { Client, fetchExchange, subscriptionExchange } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';
import { createClient as createSSEClient } from 'graphql-sse';
import type { PageFlagFragment } from './gql/graphql.js';
import { PageFlags, PageFlagsChanged, PageRecordExposure } from './operations.js';

export interface PageOptions {
  /** Where flagledger serves, e.g. http://localhost:4000 */
  serverUrl: string;
  /** The environment's public client key (env_…). */
  environmentKey: string;
  /** Who is looking at the page. */
  identifier: string;
  /** The multivariate flag the page renders. */
  feature: string;
  root: HTMLElement;
}

/** The codegen hash of a document (`__meta__.hash`): its trusted document id. */
function documentHash(document: unknown): string {
  const hash = (document as { __meta__?: { hash?: unknown } }).__meta__?.hash;
  if (typeof hash !== 'string') throw new Error('a document without its codegen hash: run `npm run persisted-operations`');
  return hash;
}

export function createFlagClient(serverUrl: string, environmentKey: string): Client {
  const headers = { 'X-Environment-Key': environmentKey };
  const sse = createSSEClient({ url: `${serverUrl}/graphql`, headers, singleConnection: false });
  return new Client({
    url: `${serverUrl}/graphql`,
    fetchOptions: { headers },
    exchanges: [
      persistedExchange({
        enforcePersistedQueries: true,
        enableForMutation: true,
        enableForSubscriptions: true,
        preferGetForPersistedQueries: false,
        generateHash: async (_query, document) => documentHash(document),
      }),
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: sse.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
      fetchExchange,
    ],
  });
}

/**
 * The exposure's idempotency key: the same identity seeing the same variant (of the same
 * experiment iteration) always sends the same id, so re-renders, reloads and retries count once.
 */
export async function exposureEventId(identifier: string, flag: PageFlagFragment): Promise<string> {
  const text = [identifier, flag.name, flag.variant, flag.experiment?.id ?? '', flag.experiment?.iteration ?? ''].join('\n');
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return `web-${Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

export function startPage(options: PageOptions): { stop(): void } {
  const { serverUrl, environmentKey, identifier, feature, root } = options;
  const client = createFlagClient(serverUrl, environmentKey);
  const button = document.createElement('button');
  button.id = 'checkout';
  const status = document.createElement('p');
  status.id = 'status';
  const refresh = document.createElement('button');
  refresh.id = 'refresh';
  refresh.textContent = 'Refresh flags';
  root.replaceChildren(button, status, refresh);

  let renders = 0;
  /** Exposures this page already sent: a re-render sends nothing (the server would answer `duplicate` anyway). */
  const sent = new Set<string>();

  const show = (message: string) => (status.textContent = message);

  async function expose(flag: PageFlagFragment) {
    const eventId = await exposureEventId(identifier, flag);
    if (sent.has(eventId)) return;
    sent.add(eventId);
    const { data, error } = await client
      .mutation(PageRecordExposure, { input: { feature: flag.name, identifier, variantKey: flag.variant!, eventId } })
      .toPromise();
    const outcome = data?.recordExposure;
    if (error || !outcome || outcome.__typename !== 'RecordExposurePayload') {
      sent.delete(eventId);
      show(`exposure not recorded: ${error?.message ?? JSON.stringify(outcome)}`);
      return;
    }
    root.dataset.exposures = String(sent.size);
  }

  function render(flags: readonly PageFlagFragment[]) {
    const flag = flags.find((f) => f.name === feature);
    renders++;
    root.dataset.renders = String(renders);
    if (!flag) {
      button.textContent = 'Buy';
      button.dataset.variant = '';
      return;
    }
    button.textContent = typeof flag.value === 'string' ? flag.value : JSON.stringify(flag.value);
    button.dataset.variant = flag.variant ?? '';
    button.disabled = !flag.enabled;
    if (flag.variant) void expose(flag);
  }

  async function load() {
    const { data, error } = await client.query(PageFlags, { identifier }, { requestPolicy: 'network-only' }).toPromise();
    if (error || !data) return show(`flags not loaded: ${error?.message}`);
    render(data.flags);
  }

  refresh.addEventListener('click', () => void load());
  const live = client.subscription(PageFlagsChanged, { identifier }).subscribe((result) => {
    if (result.error) return show(`live updates stopped: ${result.error.message}`);
    if (result.data) {
      render(result.data.flagsChanged);
      show('live');
    }
  });
  void load();
  return { stop: () => live.unsubscribe() };
}
