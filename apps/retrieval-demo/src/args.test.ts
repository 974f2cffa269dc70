import { describe, expect, it } from 'vitest';
import { int, positive } from './args';

describe('retrieval-demo flag parsers', () => {
  it('read plain decimals only, naming the flag', () => {
    expect(int('-k')('16')).toBe(16);
    for (const bad of ['0x10', '', '2.0', '1e1'])
      expect(() => int('-k')(bad), bad).toThrow(`-k must be an integer ≥ 1, got "${bad}"`);
    expect(positive('--lr')('3e-3')).toBe(0.003);
    for (const bad of ['0x1', '', '0'])
      expect(() => positive('--lr')(bad), bad).toThrow(`--lr must be a positive number, got`);
  });
});
