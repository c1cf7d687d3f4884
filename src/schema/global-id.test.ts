import { describe, expect, it } from 'vitest';
import { decodeGlobalId, encodeGlobalId } from './global-id.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('decodeGlobalId', () => {
  it.each([
    ['Project:1', { typename: 'Project', id: '1' }],
    ['Project:2147483647', { typename: 'Project', id: '2147483647' }],
    ['Exposure:9223372036854775807', { typename: 'Exposure', id: '9223372036854775807' }],
  ])('decodes %s', (text, expected) => {
    expect(decodeGlobalId(b64(text))).toEqual(expected);
    expect(encodeGlobalId(expected.typename, expected.id)).toBe(b64(text));
  });

  it.each([
    'Project:2147483648',
    'Project:9999999999',
    'Exposure:9223372036854775808',
    'Exposure:99999999999999999999',
    'Project:0',
    'Project:01',
    'Project:-1',
    'Project:1.5',
    'Project:1e3',
    'Project:abc',
    'Project: 1',
    'Project:1 ',
    'Project:',
    'Project',
    ':1',
    '1Project:1',
    'Pro ject:1',
    'Project:1:2',
  ])('refuses %j', (text) => {
    expect(decodeGlobalId(b64(text))).toBeNull();
  });

  it('accepts only the one spelling the server writes', () => {
    const real = b64('Project:12'); // UHJvamVjdDoxMg==
    expect(decodeGlobalId(real)).not.toBeNull();
    for (const other of [real.replace(/=+$/, ''), `${real}=`, ` ${real}`, `${real}\n`, real.replace('=', '%3D'), '', 'x'.repeat(500)]) {
      expect(decodeGlobalId(other), JSON.stringify(other)).toBeNull();
    }
    // A URL-safe alphabet spells other bytes: never the same row.
    const withPlus = b64('Project:>>1');
    expect(decodeGlobalId(withPlus.replace(/\+/g, '-').replace(/\//g, '_'))).toBeNull();
    // Bytes that are not UTF-8 are refused, not replaced.
    expect(decodeGlobalId(Buffer.from([0x50, 0x3a, 0x31, 0xff]).toString('base64'))).toBeNull();
  });
});
