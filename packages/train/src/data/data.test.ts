import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { execFileSync } from 'node:child_process';
import { mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, MatViT, matvitConfig, Rng } from '@matformer/core';
import { decodeBytes, encodeBytes } from './byte-tokenizer';
import { loadTextCorpus, MOBY_DICK } from './text-corpus';
import { loadMnist } from './mnist';
import { parseIdx, loadIdxDataset } from './idx';
import { decodeImage, toTensorData } from './image-decode';
import { loadImageFolder } from './image-folder';
import { splitDataset, subset } from './image-dataset';
import { imageTask } from './image-task';
import { Trainer } from '../trainer';
import { tempDir } from '../test-fixtures';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('wasm');
  dir = await tempDir('matformer-data-');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('text', () => {
  it('the byte tokenizer round-trips any text, multi-byte characters included', () => {
    const text = 'Call me Ishmael — “whale” 鯨 🐋';
    const tokens = encodeBytes(text);
    expect(Math.max(...tokens)).toBeLessThan(256);
    expect(decodeBytes(tokens)).toBe(text);
  });

  it('ships Moby Dick with a held-out tail', async () => {
    const c = await loadTextCorpus(MOBY_DICK);
    expect(c.train.length + c.val.length).toBeGreaterThan(1_000_000);
    expect(c.val.length / (c.train.length + c.val.length)).toBeCloseTo(0.05, 2);
    expect(decodeBytes(c.train.subarray(0, 200))).toMatch(/ETYMOLOGY/);
  });

  it('reads a folder of .txt files and rejects empty or missing sources clearly', async () => {
    const folder = join(dir, 'texts');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'a.txt'), 'x'.repeat(3000));
    await writeFile(join(folder, 'b.md'), 'y'.repeat(3000));
    await writeFile(join(folder, 'ignored.bin'), 'z');
    const c = await loadTextCorpus(folder, { valFraction: 0.2 });
    expect(c.train.length + c.val.length).toBe(6002);
    await writeFile(join(dir, 'empty.txt'), '');
    await expect(loadTextCorpus(join(dir, 'empty.txt'))).rejects.toThrow(/is empty/);
    await expect(loadTextCorpus(join(dir, 'nope.txt'))).rejects.toThrow(/does not exist/);
    await writeFile(join(dir, 'short.txt'), 'tiny');
    await expect(loadTextCorpus(join(dir, 'short.txt'))).rejects.toThrow(ConfigError);
  });

  it('refuses a device, a FIFO or a source over the size limit, naming it (issue #23)', async () => {
    await expect(loadTextCorpus('/dev/null')).rejects.toThrow(
      'text source /dev/null is a character device, not a regular file',
    );
    const fifo = join(dir, 'pipe.txt');
    execFileSync('mkfifo', [fifo]);
    await expect(loadTextCorpus(fifo)).rejects.toThrow(
      `text source ${fifo} is a FIFO (named pipe), not a regular file`,
    );
    // A 1 GiB sparse file: no disk used, and refused before it is read.
    const huge = join(dir, 'huge.txt');
    await writeFile(huge, '');
    await truncate(huge, 2 ** 30);
    await expect(loadTextCorpus(huge)).rejects.toThrow(
      `text source ${huge} is 1 GiB, over the limit of 256 MiB`,
    );
    await rm(huge);
    // An injectable limit, for a folder's files together.
    const folder = join(dir, 'limited');
    await mkdir(folder);
    await writeFile(join(folder, 'a.txt'), 'x'.repeat(3000));
    await writeFile(join(folder, 'b.txt'), 'x'.repeat(3000));
    await expect(loadTextCorpus(folder, { maxBytes: 4096 })).rejects.toThrow(
      `text source ${folder} holds 5.86 KiB of .txt/.md files, over the limit of 4 KiB`,
    );
  });
});

describe('images', () => {
  it('loads the 10,000 shipped MNIST digits, class-balanced and in a fixed order', () => {
    const d = loadMnist();
    expect(d.labels.length).toBe(10_000);
    expect(Array.from(d.labels.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    const counts = new Array(10).fill(0);
    d.labels.forEach((l) => counts[l]++);
    expect(Math.min(...counts)).toBeGreaterThan(850);
    expect(d.images.reduce((m, v) => Math.max(m, v), 0)).toBeLessThanOrEqual(1);
    const { train, test } = splitDataset(d, 0.2);
    expect(train.labels.length + test.labels.length).toBe(10_000);
    expect(Math.abs(test.labels.length - 2000)).toBeLessThan(10);
    // Stratified: every class is held out in proportion (a plain every-5th split of this
    // class-cycled order would hold out only 4s and 9s).
    const held = new Array(10).fill(0);
    test.labels.forEach((l) => held[l]++);
    held.forEach((h, c) => expect(h / counts[c]).toBeCloseTo(0.2, 1));
  });

  it('parses IDX files and rejects corrupt ones', async () => {
    const header = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2];
    const images = Uint8Array.from([...header, 0, 255, 128, 0, 10, 20, 30, 40]);
    const labels = Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 2, 3, 7]);
    await writeFile(join(dir, 'img.idx'), images);
    await writeFile(join(dir, 'lbl.idx'), labels);
    const d = await loadIdxDataset(join(dir, 'img.idx'), join(dir, 'lbl.idx'));
    expect(Array.from(d.labels)).toEqual([3, 7]);
    expect(d.images[1]).toBe(1);
    expect(d.classes).toHaveLength(8);
    expect(() => parseIdx(images.subarray(0, images.length - 1), 'cut.idx')).toThrow(
      /cut.idx: header says \[2×2×2\] = 8 bytes of data, file holds 7/,
    );
    expect(() => parseIdx(Uint8Array.from([1, 2, 3, 4]), 'x')).toThrow(/not an IDX file/);
    expect(() => parseIdx(Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 0]), 'x')).toThrow(
      /element type 0xd is not supported/,
    );
  });

  it('decodes PNG and JPEG, resizes, and rejects unreadable images', async () => {
    const png = new PNG({ width: 4, height: 4 });
    for (let i = 0; i < 16; i++) png.data.set(i < 8 ? [255, 255, 255, 255] : [0, 0, 0, 255], i * 4);
    const pngBytes = PNG.sync.write(png);
    const img = decodeImage(pngBytes, 'top-white.png');
    expect([img.width, img.height]).toEqual([4, 4]);
    const gray = toTensorData(img, 2, 1);
    expect(Array.from(gray)).toEqual([1, 1, 0, 0]);
    const jpg = jpeg.encode({ width: 8, height: 8, data: Buffer.alloc(8 * 8 * 4, 200) }, 90);
    const rgb = toTensorData(decodeImage(jpg.data, 'gray.jpg'), 4, 3);
    expect(Math.abs(rgb[0] - 200 / 255)).toBeLessThan(0.03);
    expect(() => decodeImage(Buffer.from('GIF89a....'), 'x.gif')).toThrow(
      /x.gif: not a PNG or JPEG image/,
    );
    expect(() => decodeImage(pngBytes.subarray(0, 30), 'cut.png')).toThrow(
      /cut.png: unreadable PNG/,
    );
  });

  it('loads a folder with one sub-folder per class', async () => {
    const root = join(dir, 'digits');
    for (const [cls, value] of [
      ['cat', 255],
      ['dog', 0],
    ] as const) {
      await mkdir(join(root, cls), { recursive: true });
      const png = new PNG({ width: 10, height: 10 });
      png.data.fill(value);
      for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
      await writeFile(join(root, cls, 'a.png'), PNG.sync.write(png));
    }
    const d = await loadImageFolder(root, { size: 28 });
    expect(d.classes).toEqual(['cat', 'dog']);
    expect(Array.from(d.labels)).toEqual([0, 1]);
    expect(d.images[0]).toBeCloseTo(1, 5);
    await writeFile(join(root, 'dog', 'broken.png'), 'not a png');
    await expect(loadImageFolder(root)).rejects.toThrow(/broken.png: not a PNG or JPEG image/);
    await expect(loadImageFolder(join(dir, 'missing'))).rejects.toThrow(/does not exist/);
  });

  it("trains a tiny MatViT on MNIST: every granularity's loss falls and accuracy beats chance", async () => {
    const mnist = loadMnist();
    const data = {
      train: subset(
        mnist,
        Array.from({ length: 2000 }, (_, i) => i),
      ),
      test: subset(
        mnist,
        Array.from({ length: 300 }, (_, i) => 9000 + i),
      ),
    };
    // 14×14 patches and mean pooling: a tiny ViT that learns in a few dozen steps.
    const model = MatViT.create(matvitConfig('tiny', { patchSize: 14, pool: 'mean' }), 0);
    const task = imageTask(model, data, { batchSize: 32, maxShift: 1 });
    const trainer = new Trainer(task, { steps: 40, lr: 1e-2, warmupSteps: 5, evalEvery: 0 });
    const before = await trainer.evaluate();
    const result = await trainer.run();
    result.rows.forEach((row, i) => {
      expect(row.loss, `width ${row.name}`).toBeLessThan(before.rows[i].loss - 0.5);
      expect(row.accuracy!, `width ${row.name}`).toBeGreaterThan(0.35); // chance: 0.1
    });
    // Augmentation draws from the rng: the same seed gives the same batch.
    const [a, b] = [task.nextBatch(new Rng(1)), task.nextBatch(new Rng(1))];
    expect(tf.tidy(() => a.x.sub(b.x).abs().max().dataSync()[0])).toBe(0);
    [a, b].forEach((x) => task.disposeBatch(x));
    expect(() =>
      imageTask(
        model,
        {
          train: data.train,
          test: { ...data.test, height: 32, width: 32, images: new Float32Array(32 * 32 * 500) },
        },
        { batchSize: 8 },
      ),
    ).toThrow(/test images are 32×32×1; the model takes 28×28×1/);
    await trainer.dispose();
    task.dispose();
    model.dispose();
  });
});
