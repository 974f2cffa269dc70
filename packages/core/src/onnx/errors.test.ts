import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matlmConfig, matvitConfig } from '../config';
import { CheckpointError, ConfigError } from '../errors';
import { extract } from '../extract';
import { MatLM } from '../models/matlm';
import { MatViT } from '../models/matvit';
import { useBackend } from '../test-backends';
import { exportOnnx, toOnnx } from './export';
import { GraphBuilder } from './graph';
import { OnnxLMEngine } from './lm-engine';
import { metadataKeys } from './metadata';
import { DataType, ModelProto } from './schema';
import { OnnxViTEncoder } from './vit-encoder';

type Decoded = {
  graph: { input: { name: string }[] };
  metadataProps: { key: string; value: string }[];
};

describe('ONNX load and export errors', () => {
  let lm: MatLM;
  let vit: MatViT;
  let lmBytes: Uint8Array;
  let dir: string;
  beforeAll(async () => {
    await useBackend('wasm');
    lm = MatLM.create(matlmConfig('tiny'), 1);
    vit = MatViT.create(matvitConfig('tiny'), 1);
    lmBytes = toOnnx(lm).bytes;
    dir = await mkdtemp(join(tmpdir(), 'matformer-onnx-err-'));
  });
  afterAll(async () => {
    lm.dispose();
    vit.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const loadFails = async (bytes: Uint8Array, message: RegExp) => {
    const path = join(dir, `bad-${Math.random().toString(36).slice(2)}.onnx`);
    await writeFile(path, bytes);
    const err = await OnnxLMEngine.load(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain(path);
  };

  it('a missing file', async () => {
    await expect(OnnxLMEngine.load(join(dir, 'nope.onnx'))).rejects.toThrow(
      new CheckpointError(`ONNX file not found: ${join(dir, 'nope.onnx')}`),
    );
  });

  it('an empty file', () => loadFails(new Uint8Array(0), /is empty/));

  it('garbage bytes', () =>
    loadFails(
      new TextEncoder().encode('this is not an onnx model at all, just text'.repeat(50)),
      /not a readable ONNX model|no ONNX graph/,
    ));

  it.each([0.05, 0.3, 0.5, 0.9, 0.999])('a file truncated to %f of its length', (f) =>
    loadFails(lmBytes.subarray(0, Math.floor(lmBytes.length * f)), /truncated/),
  );

  it('an ONNX model not exported by this package', async () => {
    const g = new GraphBuilder(17);
    const x = g.input('x', DataType.FLOAT, [2]);
    g.op('Relu', [x], {}, 'y');
    g.output('y', DataType.FLOAT, [2]);
    const bytes = ModelProto.encode({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: { name: 'g', node: g.nodes, input: g.inputs, output: g.outputs, initializer: [] },
    } as never).finish();
    await loadFails(bytes, /not exported by @matformer\/core\/onnx/);
  });

  it('a MatViT file given to the LM engine, and the reverse', async () => {
    await loadFails(toOnnx(vit).bytes, /holds a MatViT, not a language model/);
    await expect(OnnxViTEncoder.fromBytes(lmBytes)).rejects.toThrow(/holds a matlm, not a MatViT/);
  });

  it('a graph whose inputs do not match its config', async () => {
    const dropped = ModelProto.decode(lmBytes) as unknown as Decoded;
    dropped.graph.input.pop(); // lose past_value_1
    await loadFails(
      ModelProto.encode(dropped as never).finish(),
      /graph inputs \[.*\] do not match the expected/,
    );

    const wrongHeads = ModelProto.decode(lmBytes) as unknown as Decoded;
    const meta = wrongHeads.metadataProps.find((p) => p.key === metadataKeys.config)!;
    meta.value = JSON.stringify({ ...JSON.parse(meta.value), nHeads: 4 });
    await loadFails(
      ModelProto.encode(wrongHeads as never).finish(),
      /input "past_key_0" has shape \[batch, 2, past, 8\], expected \[batch, 4, past, 4\]/,
    );

    const badConfig = ModelProto.decode(lmBytes) as unknown as Decoded;
    badConfig.metadataProps.find((p) => p.key === metadataKeys.config)!.value = '{"arch":"matlm"';
    await loadFails(
      ModelProto.encode(badConfig as never).finish(),
      /invalid "matformer.config" metadata: not valid JSON/,
    );
  });

  it('widths that do not fit the checkpoint throw ConfigError and write nothing', async () => {
    const path = join(dir, 'never.onnx');
    const before = await readdir(dir);
    await expect(exportOnnx(lm, path, { widths: [8, 12] })).rejects.toThrow(ConfigError);
    await expect(exportOnnx(lm, path, { widths: [8, 12] })).rejects.toThrow(
      /widths\[1\] = 12 is out of range/,
    );
    await expect(exportOnnx(lm, path, { widths: [8] })).rejects.toThrow(
      /one FFN width per layer \(2\)/,
    );
    const small = extract(lm, 16);
    // An extracted model stores only 16 neurons per layer: it cannot be exported wider.
    await expect(exportOnnx(small, path, { widths: 32 })).rejects.toThrow(
      /layer 0 allows \[8, 16\]/,
    );
    small.dispose();
    await expect(exportOnnx(lm, path, { opset: 13 as never })).rejects.toThrow(
      /opset must be one of 17, 20/,
    );
    expect(existsSync(path)).toBe(false);
    expect(await readdir(dir)).toEqual(before);
  });
});
