import { describe, expect, it } from 'vitest';
import { matlmConfig } from '@matformer/core';
import { parseWidths } from './widths';

const config = matlmConfig('mini', { vocabSize: 256 }); // 4 layers, granularities 64/128/256/512

describe('parseWidths', () => {
  it('reads one width for every layer, or one per layer', () => {
    expect(parseWidths('128', config)).toEqual([128, 128, 128, 128]);
    expect(parseWidths(' 64, 128 256,512 ', config)).toEqual([64, 128, 256, 512]);
  });

  it('names a width that is not a granularity, and the allowed ones', () => {
    expect(() => parseWidths('64,100,256,512', config)).toThrow(
      'layer 2 width 100 is not a granularity of this model; allowed: 64, 128, 256, 512',
    );
    expect(() => parseWidths('1024', config)).toThrow(/layer 1 width 1024/);
  });

  it('refuses words, empty input and the wrong number of widths', () => {
    expect(() => parseWidths('big', config)).toThrow('width 1 ("big") is not a whole number');
    expect(() => parseWidths('-64', config)).toThrow(/not a whole number/);
    expect(() => parseWidths('  ', config)).toThrow(/widths are empty/);
    expect(() => parseWidths('64,128', config)).toThrow('2 widths for 4 layers');
  });
});
