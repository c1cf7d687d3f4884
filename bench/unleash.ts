// The peer for the flags benchmark: Unleash (unleash-server from npm, installed into a
// scratch folder under .bench/, not a project dependency) on its own scratch database.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BENCH_DIR, type Child, startChild } from './processes.js';

export const UNLEASH_VERSION = '8.2.0';
const UNLEASH_DIR = join(BENCH_DIR, 'unleash');
const ADMIN_TOKEN = '*:*.flagledger-bench-admin-token';
export const UNLEASH_FRONTEND_TOKEN = 'default:development.flagledger-bench-frontend-token';

/** Installs unleash-server once into .bench/unleash (a second run reuses it). */
export function installUnleash(): string {
  const serverJs = join(UNLEASH_DIR, 'node_modules', 'unleash-server', 'dist', 'server.js');
  const packageJson = join(UNLEASH_DIR, 'node_modules', 'unleash-server', 'package.json');
  if (existsSync(serverJs) && existsSync(packageJson)) return resolve(serverJs);
  mkdirSync(UNLEASH_DIR, { recursive: true });
  // Its own package.json: npm must not take flagledger's as the project to install into.
  writeFileSync(join(UNLEASH_DIR, 'package.json'), '{ "name": "flagledger-bench-unleash", "private": true }\n');
  console.log(`installing unleash-server@${UNLEASH_VERSION} into ${UNLEASH_DIR} (once)...`);
  execFileSync('npm', ['install', '--prefix', UNLEASH_DIR, '--no-audit', '--no-fund', `unleash-server@${UNLEASH_VERSION}`], { stdio: 'inherit' });
  return resolve(serverJs);
}

export async function startUnleash(databaseUrl: string, port: number): Promise<{ url: string; child: Child }> {
  const serverJs = installUnleash();
  const url = `http://127.0.0.1:${port}`;
  const child = await startChild(
    'unleash',
    process.execPath,
    [serverJs],
    {
      DATABASE_URL: databaseUrl,
      DATABASE_SSL: 'false',
      PORT: String(port),
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      INIT_ADMIN_API_TOKENS: ADMIN_TOKEN,
      INIT_FRONTEND_API_TOKENS: UNLEASH_FRONTEND_TOKEN,
      // Its defaults limit SDK and token-authenticated endpoints to ~333 req/s per client IP.
      SDK_API_RATE_LIMIT_PER_MINUTE: '100000000',
      TOKEN_AUTHENTICATION_RATE_LIMIT_PER_MINUTE: '100000000',
      CHECK_VERSION: 'false',
      SEND_TELEMETRY: 'false',
    },
    `${url}/health`,
    300_000,
  );
  return { url, child };
}

async function admin(url: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: ADMIN_TOKEN },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`Unleash ${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * The same shape as flagledger's benchmark project: `features` flags enabled in the
 * development environment with a 100% rollout; the first `multivariate` of them with 3
 * variants (all "variable": Unleash splits them evenly).
 */
export async function seedUnleash(url: string, features: number, multivariate: number): Promise<void> {
  for (let i = 0; i < features; i++) {
    const name = `feature_${String(i).padStart(3, '0')}`;
    await admin(url, 'POST', '/api/admin/projects/default/features', { name, type: 'release' });
    const variants =
      i < multivariate
        ? ['variant_a', 'variant_b', 'variant_c'].map((variant) => ({
            name: variant,
            weight: 0,
            weightType: 'variable',
            stickiness: 'default',
            payload: { type: 'string', value: `${variant}_${i}` },
          }))
        : [];
    await admin(url, 'POST', `/api/admin/projects/default/features/${name}/environments/development/strategies`, {
      name: 'flexibleRollout',
      constraints: [],
      parameters: { rollout: '100', stickiness: 'default', groupId: name },
      variants,
    });
    await admin(url, 'POST', `/api/admin/projects/default/features/${name}/environments/development/on`);
  }
}

/** Frontend API answer for one user: the enabled toggles with their variants. */
export async function unleashFrontendOnce(url: string, userId: string): Promise<{ name: string; variant: { name: string; enabled: boolean } }[]> {
  const response = await fetch(`${url}/api/frontend?userId=${encodeURIComponent(userId)}`, { headers: { authorization: UNLEASH_FRONTEND_TOKEN } });
  if (!response.ok) throw new Error(`Unleash frontend API: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { toggles: { name: string; variant: { name: string; enabled: boolean } }[] };
  return body.toggles;
}
