import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { LazyRequestLogger } from './logger.js';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { parent: pino({ level, base: undefined }, stream), lines };
}

describe('LazyRequestLogger', () => {
  it('writes the lines of a child with the request id', async () => {
    const { parent, lines } = capture('info');
    const logger = new LazyRequestLogger(parent, 'req-1');
    logger.error({ err: new Error('boom') }, 'request failed');
    logger.info('plain %s', 'text');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map(({ reqId, msg, level }) => ({ reqId, msg, level }))).toEqual([
      { reqId: 'req-1', msg: 'request failed', level: 50 },
      { reqId: 'req-1', msg: 'plain text', level: 30 },
    ]);
    expect((lines[0].err as { message: string }).message).toBe('boom');
  });

  it('makes the child on the first line written at an enabled level, once', () => {
    const { parent } = capture('info');
    const child = vi.spyOn(parent, 'child');
    const logger = new LazyRequestLogger(parent, 'req-2');
    logger.debug('not written');
    logger.trace('not written');
    expect(child).not.toHaveBeenCalled();
    logger.warn('written');
    logger.error('written');
    expect(child).toHaveBeenCalledTimes(1);
    expect(child).toHaveBeenCalledWith({ reqId: 'req-2' });
  });
});
