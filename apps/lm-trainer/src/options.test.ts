import { describe, expect, it } from 'vitest';
import { float, int, widthsArg, widthsArgFor } from './options';

describe('flag parsers', () => {
  it('read plain decimals only: no hex, no fractions for integers, no empty values', () => {
    expect(int('--steps')('16')).toBe(16);
    for (const bad of ['0x10', '1.0', '1e3', '', ' ', '-1', '+2', '0b11'])
      expect(() => int('--steps')(bad), bad).toThrow(
        `--steps must be an integer ≥ 1, got "${bad}"`,
      );
    expect(float('--lr', 0, 1)('3e-3')).toBe(0.003);
    expect(float('--lr', 0, 1)('.5')).toBe(0.5);
    for (const bad of ['0x1', '', 'Infinity', '1,5'])
      expect(() => float('--lr', 0, 1)(bad), bad).toThrow(`--lr must be a number in [0, 1], got`);
  });

  it('refuse an empty or non-decimal widths item, naming the flag', () => {
    expect(widthsArg('128')).toBe(128);
    expect(widthsArg('128, 0,256,512')).toEqual([128, 0, 256, 512]);
    expect(() => widthsArg('128,,256,512')).toThrow(
      /^--widths must be one width or a comma list .*, got "128,,256,512" \(item 2 is empty\)$/,
    );
    expect(() => widthsArg('')).toThrow(/^--widths must be .*, got ""$/);
    expect(() => widthsArgFor('--draft-widths')('0x10,8')).toThrow(
      /^--draft-widths must be .* \(item 1 is "0x10"\)$/,
    );
  });
});
