import { pino, type Logger } from 'pino';

/** Structured JSON logs on stdout; errors keep their stack. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'flagledger' } });
}
