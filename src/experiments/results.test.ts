import { describe, expect, it } from 'vitest';
import { srmStatus } from './service.js';

describe('srm grading', () => {
  it('grades by identities, then p', () => {
    expect(srmStatus(99, 0)).toBe('INSUFFICIENT_DATA');
    expect(srmStatus(100, null)).toBe('INSUFFICIENT_DATA');
    expect(srmStatus(100, 0.5)).toBe('OK');
    expect(srmStatus(100, 0.01)).toBe('OK');
    expect(srmStatus(100, 0.0099)).toBe('WARNING');
    expect(srmStatus(100, 0.001)).toBe('WARNING');
    expect(srmStatus(100, 0.00099)).toBe('FAILED');
  });
});
