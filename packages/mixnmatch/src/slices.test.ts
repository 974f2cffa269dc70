import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extract, paramCount, type MatLM } from '@matformer/core';
import { SliceError } from './errors';
import {
  GEMMA_COLUMNS,
  parseSlicesCsv,
  readSliceFile,
  resolveSlice,
  sliceFromWidths,
  slicesToCsv,
  widthsFromSliceArgs,
  writeSliceFile,
  type Slice,
} from './slices';
import { tinyModel } from './test-fixtures';

// Two rows in the layout of Google's Gemma 3n slicing config (as mistral.rs ships it).
const GEMMA_CSV = `name,# Layers,# Effective Params (B),MMLU PT accuracy,FFN Hidden Dims,Layers Skipped
Main model,4,3.98,62.30%,"[2_048 * 8, 2_048 * 8, 2_048 * 8, 2_048 * 8]",
Config for E2B,3,1.91,50.90%,"[2_048 * 4, 2_048 * 4, 2_048 * 8]","[2]"
`;

describe('slice files', () => {
  let model: MatLM;
  let dir: string;
  let slices: Slice[];
  const named: Record<string, number[]> = {
    full: [64, 64, 64, 64],
    mixed: [8, 16, 32, 64],
    'skip one': [16, 0, 32, 64],
    'skip two, "quoted", name': [0, 8, 0, 64],
  };
  beforeAll(async () => {
    model = await tinyModel();
    dir = await mkdtemp(join(tmpdir(), 'slices-'));
    slices = Object.entries(named).map(([name, w]) =>
      sliceFromWidths(name, w, {
        params: paramCount(model.config, w),
        loss: 3.25,
        bitsPerToken: 4.69,
      }),
    );
  });
  afterAll(async () => {
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads Google\'s Gemma 3n layout: "2_048 * 4" widths, skipped layers, percent quality', () => {
    const [main, e2b] = parseSlicesCsv(GEMMA_CSV, 'gemma3n.csv');
    expect(main).toMatchObject({
      name: 'Main model',
      ffnHiddenDims: [16384, 16384, 16384, 16384],
      layersSkipped: [],
      effectiveParams: 3.98e9,
      mmlu: '62.30%',
    });
    expect(e2b).toMatchObject({ ffnHiddenDims: [8192, 8192, 16384], layersSkipped: [2] });
  });

  it('writes the Gemma header first, lists as "[a, b]", an empty Layers Skipped when none', () => {
    const csv = slicesToCsv(slices);
    const [header, full, , skipOne] = csv.split('\n');
    expect(header.startsWith(GEMMA_COLUMNS.join(','))).toBe(true);
    expect(full).toMatch(/^full,4,[\d.e-]+,,"\[64, 64, 64, 64\]",,/);
    expect(skipOne).toMatch(/^skip one,3,[\d.e-]+,,"\[16, 32, 64\]",\[1\],/);
  });

  it.each(['slices.csv', 'slices.json'])('round-trips through %s', async (file) => {
    const path = join(dir, file);
    await writeSliceFile(path, slices);
    const back = await readSliceFile(path);
    expect(back).toEqual(slices);
    for (const [name, w] of Object.entries(named))
      expect(await resolveSlice(path, name, model.config)).toEqual(w);
  });

  it('a slice loads the same submodel as the widths it names', async () => {
    const path = join(dir, 'same.csv');
    await writeSliceFile(path, slices);
    const tokens = tf.tensor2d([[1, 2, 3, 4, 5, 6]], undefined, 'int32');
    for (const [name, w] of Object.entries(named)) {
      const fromSlice = extract(model, await resolveSlice(path, name, model.config));
      const fromWidths = extract(model, w);
      expect(fromSlice.config).toEqual(fromWidths.config);
      const [a, b, c] = [
        fromSlice.forward(tokens),
        fromWidths.forward(tokens),
        model.forward(tokens, w),
      ];
      expect(tf.tidy(() => a.sub(b).abs().max().dataSync()[0])).toBe(0);
      expect(tf.tidy(() => a.sub(c).abs().max().dataSync()[0])).toBeLessThan(1e-5);
      expect(fromSlice.storedParamCount).toBe(slices.find((s) => s.name === name)!.effectiveParams);
      tf.dispose([a, b, c]);
      fromSlice.dispose();
      fromWidths.dispose();
    }
    tokens.dispose();
  });

  it('widthsFromSliceArgs: nothing → undefined; a lone flag, a missing file or name → clear errors', async () => {
    const path = join(dir, 'args.json');
    await writeSliceFile(path, slices);
    expect(await widthsFromSliceArgs({})).toBeUndefined();
    expect(await widthsFromSliceArgs({ slices: path, slice: 'mixed' }, model.config)).toEqual([
      8, 16, 32, 64,
    ]);
    await expect(widthsFromSliceArgs({ slice: 'mixed' })).rejects.toThrow(
      '--slice "mixed" needs --slices FILE',
    );
    await expect(widthsFromSliceArgs({ slices: path })).rejects.toThrow(
      `--slices ${path} needs --slice NAME`,
    );
    await expect(
      widthsFromSliceArgs({ slices: join(dir, 'nope.csv'), slice: 'x' }),
    ).rejects.toThrow(/slice file .*nope.csv does not exist/);
    await expect(widthsFromSliceArgs({ slices: path, slice: 'tiny' })).rejects.toThrow(
      `no slice named "tiny" in ${path}; it has: "full", "mixed", "skip one", "skip two, "quoted", name"`,
    );
  });

  it('refuses slices that do not fit the model, and malformed rows, naming file, row and column', async () => {
    const gemma = parseSlicesCsv(GEMMA_CSV, 'gemma3n.csv');
    await expect(resolveSlice(gemma, 'Main model', model.config)).rejects.toThrow(
      /slice "Main model" in the slice list does not fit the model: widths\[0\] = 16384 is out of range/,
    );
    await expect(
      resolveSlice(gemma, 'Config for E2B', { ...model.config, nLayers: 5 } as never),
    ).rejects.toThrow(/describes 4 layers \(3 kept \+ 1 skipped\), the model has 5/);
    const bad = (row: string) => () =>
      parseSlicesCsv(`${GEMMA_COLUMNS.join(',')}\n${row}\n`, 'bad.csv');
    expect(bad('x,2,0.1,,"[8, 16]",')).not.toThrow();
    expect(bad('x,3,0.1,,"[8, 16]",')).toThrow(
      'bad.csv row 2 ("x"): # Layers is 3 but FFN Hidden Dims lists 2 kept layers',
    );
    expect(bad('x,2,0.1,,"[8, sixteen]",')).toThrow(/"sixteen" is not a width/);
    expect(bad('x,2,0.1,,"8, 16",')).toThrow(/FFN Hidden Dims must be a bracketed list/);
    expect(bad('x,2,0.1,,"[8, 16]",[5]')).toThrow(
      /Layers Skipped \[5\] must be distinct indices below 3/,
    );
    expect(bad(',2,0.1,,"[8, 16]",')).toThrow(/the "name" column is empty/);
    expect(() => parseSlicesCsv('name,widths\nx,1\n', 'odd.csv')).toThrow(
      /odd.csv lacks the column\(s\) "FFN Hidden Dims"/,
    );
    expect(() => parseSlicesCsv(`${GEMMA_CSV}Main model,1,1,,[8],\n`, 'dup.csv')).toThrow(
      /names the slice "Main model" twice/,
    );
    const garbage = join(dir, 'garbage.json');
    await writeFile(garbage, '{not json');
    await expect(readSliceFile(garbage)).rejects.toThrow(SliceError);
  });
});
