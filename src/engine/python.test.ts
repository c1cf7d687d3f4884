import { describe, expect, it } from 'vitest';
import { mapStringValue, parsePyFloat, parsePyInt, PyFloat, pyFloatRepr, pyStr, pyStrCmp } from './python.js';

describe('python value helpers', () => {
  it.each([
    [1, '1.0'],
    [1e16, '1e+16'],
    [1e15, '1000000000000000.0'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [-1.5e-7, '-1.5e-07'],
    [Infinity, 'inf'],
  ])('formats %s as repr() does: %s', (value, text) => {
    expect(pyFloatRepr(value)).toBe(text);
  });

  it.each([
    [new PyFloat(2), '2.0'],
    [true, 'True'],
  ])('formats %o as str() does: %s', (value, text) => {
    expect(pyStr(value)).toBe(text);
  });

  it.each([
    [' +1_000 ', 1000],
    ['1.5', undefined],
    ['12345678901234567890', 12345678901234567890n],
  ])('parses %j like int(): %s', (text, value) => {
    expect(parsePyInt(text)).toBe(value);
  });

  it.each([
    ['1e3', 1000],
    ['-inf', -Infinity],
    ['0x10', undefined],
    ['', undefined],
  ])('parses %j like float(): %s', (text, value) => {
    expect(parsePyFloat(text)).toBe(value);
  });

  it.each([
    ['2.0', new PyFloat(2)],
    ['-12', -12],
    ['1e3', '1e3'],
  ])('types the string trait %j as %o', (text, value) => {
    expect(mapStringValue(text)).toEqual(value);
  });

  it.each([
    ['\u{1F600}', '\uFFFD', 1],
    ['a', 'b', -1],
    ['ab', 'a', 1],
  ])('orders %j and %j by code point: %i', (a, b, expected) => {
    expect(pyStrCmp(a, b)).toBe(expected);
  });
});
