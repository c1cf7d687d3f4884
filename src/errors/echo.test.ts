import { describe, expect, it } from 'vitest';
import { ECHO_MAX, echo, shortenMessage } from './echo.js';

describe('echo', () => {
  it('keeps short input, shortens long input to ECHO_MAX characters', () => {
    expect(echo('plan')).toBe('plan');
    expect(echo('x'.repeat(1000))).toBe(`${'x'.repeat(ECHO_MAX)}…`);
  });

  it('never carries control characters or a surrogate cut in half', () => {
    expect(echo('a\u0000b\nc')).toBe('a?b?c');
    expect(echo(`${'x'.repeat(ECHO_MAX - 1)}😀tail`)).toBe(`${'x'.repeat(ECHO_MAX - 1)}?…`);
    expect(echo('\ud800')).toBe('?');
  });
});

describe('shortenMessage', () => {
  it('shortens every long quoted part and leaves the rest', () => {
    const message = `Variable "$n" got invalid value "${'x'.repeat(500)}"; Int cannot represent non-integer value: "${'y'.repeat(500)}"`;
    expect(shortenMessage(message)).toBe(
      `Variable "$n" got invalid value "${'x'.repeat(ECHO_MAX)}…"; Int cannot represent non-integer value: "${'y'.repeat(ECHO_MAX)}…"`,
    );
    expect(shortenMessage('Short "message".')).toBe('Short "message".');
  });

  it('bounds huge messages, quoted parts cut off included', () => {
    const shortened = shortenMessage(`Syntax Error: Unexpected "${'x'.repeat(100_000)}"`);
    expect(shortened).toBe(`Syntax Error: Unexpected "${'x'.repeat(ECHO_MAX)}…`);
    expect(shortenMessage('word '.repeat(1000)).length).toBeLessThanOrEqual(601);
  });
});
