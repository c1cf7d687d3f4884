// Real processes for tests: the server as `npm start` or `node` runs it, npm scripts, and small
// helper processes. Each one started inside a test is killed when that test ends, passed or
// failed, so no process outlives its test.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface SpawnedProcess {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr as they arrived. */
  output(): string;
  /** What it printed on stdout alone. */
  stdout(): string;
  /** Its exit code once it has exited (null when a signal ended it). */
  exited(): Promise<number | null>;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  /**
   * In its own process group, so that cleanup reaches every process under it: `npm start`
   * leaves its server behind when npm alone is killed.
   */
  group?: boolean;
  /** Resolve once this holds for the output so far (else at once). */
  ready?: (output: string) => boolean;
  /** How long `ready` may take. */
  timeoutMs?: number;
}

/** The error a process that exited before it was ready rejects with. */
export interface ExitedEarly extends Error {
  code: number | null;
  output: string;
}

const running = new Set<{ child: ChildProcess; group: boolean }>();

// Last resort when the test worker itself goes away: nothing keeps running after it.
process.once('exit', () => {
  for (const { child, group } of running) {
    try {
      process.kill(group ? -child.pid! : child.pid!, 'SIGKILL');
    } catch {}
  }
});

function exitOf(child: ChildProcess): Promise<number | null> {
  // A process that a signal ended has a null exit code: its exit has happened all the same.
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function stop(entry: { child: ChildProcess; group: boolean }): Promise<void> {
  const { child, group } = entry;
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
  };
  if (child.exitCode === null && child.signalCode === null) {
    const done = exitOf(child);
    if (group) killGroup();
    else child.kill('SIGKILL');
    await done;
  }
  // The group's leader may be gone while a process it started still runs.
  if (group) killGroup();
  running.delete(entry);
}

export function spawnProcess(command: string, args: string[], options: SpawnOptions = {}): Promise<SpawnedProcess> {
  const group = options.group ?? false;
  let entry: { child: ChildProcess; group: boolean } | undefined;
  try {
    onTestFinished(() => (entry ? stop(entry) : undefined));
  } catch {
    throw new Error('spawnProcess must be called inside a test, which ends the process');
  }
  const child = spawn(command, args, {
    cwd: projectRoot,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: group,
  });
  entry = { child, group };
  running.add(entry);
  let output = '';
  let stdout = '';
  child.stdout!.on('data', (chunk) => ((stdout += chunk), (output += chunk)));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const spawned: SpawnedProcess = { child, output: () => output, stdout: () => stdout, exited: () => exitOf(child) };
  const { ready, timeoutMs = 120_000 } = options;
  if (!ready) return Promise.resolve(spawned);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const check = () => {
      if (ready(output)) {
        clearTimeout(timer);
        resolve(spawned);
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    // 'close': all it printed has been read by then.
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`exited with ${code} before it was ready:\n${output}`), { output, code }));
    });
  });
}

export interface SpawnedServer extends SpawnedProcess {
  /** The URL its banner names, without `/graphql`. */
  url: string;
}

const SERVING = /serving (http:\/\/\S+)\/graphql/;

/**
 * Starts the server as `node` itself, or through `npm start` (`viaNpm`) as a user or a
 * container runtime does (then in its own process group). Resolves once its whole banner
 * has been printed; rejects with an `ExitedEarly` when it stops before that.
 */
export async function spawnServer(env: Record<string, string>, options: { viaNpm?: boolean; timeoutMs?: number } = {}): Promise<SpawnedServer> {
  const [command, args] = options.viaNpm ? ['npm', ['start', '--silent']] : [process.execPath, ['--import', 'tsx', 'src/server.ts']];
  const started = await spawnProcess(command, args, {
    env: { PORT: '0', LOG_LEVEL: 'warn', ...env },
    group: options.viaNpm,
    // The banner is one write ending in a newline: complete once the output after its first
    // line ends with one.
    ready: (output) => SERVING.test(output) && output.endsWith('\n'),
    timeoutMs: options.timeoutMs ?? 120_000,
  });
  return { ...started, url: SERVING.exec(started.output())![1] };
}

/** Runs `npm run <script>` to its end: its exit code and everything it printed. */
export async function runNpm(script: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; output: string }> {
  const run = await spawnProcess('npm', ['run', '--silent', script, '--', ...args], { env: { LOG_LEVEL: 'warn', ...env } });
  // 'close' rather than 'exit': everything printed has then been read.
  const code = await new Promise<number | null>((resolve) => run.child.once('close', resolve));
  return { code, stdout: run.stdout(), output: run.output() };
}
