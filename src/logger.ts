import { pino, type BaseLogger, type Level, type Logger } from 'pino';

/** Structured JSON logs on stdout; errors keep their stack. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'flagledger' } });
}

/** What a request's code logs through: its lines carry the request id (`reqId`). */
export type RequestLogger = Pick<BaseLogger, Level>;

/**
 * A request's logger that makes its pino child (`{ reqId }`) on the first line written at an
 * enabled level: most requests log nothing, and a child is not free at tens of thousands of
 * requests a second. The lines are the child's own.
 */
export class LazyRequestLogger implements RequestLogger {
  private child: Logger | undefined;
  constructor(
    private readonly parent: Logger,
    readonly reqId: string,
  ) {}

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }

  private write(level: Level, args: unknown[]): void {
    if (!this.parent.isLevelEnabled(level)) return;
    const child = (this.child ??= this.parent.child({ reqId: this.reqId }));
    (child[level] as (...args: unknown[]) => void).apply(child, args);
  }
}
