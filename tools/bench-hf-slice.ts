// Streaming slice of a Hugging Face directory: a benchmark, not a test. Prints one table.
//
//   npm run bench:hf-slice -- [options]   (= npx tsx --conditions=@matformer/source tools/bench-hf-slice.ts)
//     --layers 6 --d-model 2048 --d-ff 8192   synthetic gemma-style model (defaults: 1.55 GB F32,
//                                             per layer q/o [2048, 2048], k/v [1024, 2048],
//                                             gate/up [8192, 2048], down [2048, 8192])
//     --dtype F32       stored dtype of the synthetic directory (F32, F16, BF16)
//     --keep            keep the temp directories (default: deleted at the end)
//
// Three child processes, each reporting its wall time and peak RSS (VmHWM from /proc/self/status,
// so each phase's peak is its own): build the directory (written streamingly, tensor by tensor,
// synthetic weights), slice it to half widths (every layer at d-ff/2, one layer skipped), then
// read the sliced directory's headers and check one sliced tensor against the source.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  hfTensorSpecs,
  matgemmaConfig,
  openHFDirectory,
  sliceHFDirectory,
  toHFConfig,
  writeHFDirectory,
  type HFDType,
} from '@matformer/core';

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    layers: { type: 'string', default: '6' },
    'd-model': { type: 'string', default: '2048' },
    'd-ff': { type: 'string', default: '8192' },
    dtype: { type: 'string', default: 'F32' },
    keep: { type: 'boolean', default: false },
  },
});
const nLayers = Number(a.layers);
const dModel = Number(a['d-model']);
const dFF = Number(a['d-ff']);
const dtype = a.dtype as HFDType;
const config = matgemmaConfig('mini', {
  dModel,
  nLayers,
  nHeads: 16,
  nKvHeads: 8,
  headDim: dModel / 16,
  dFF,
  granularities: [dFF / 8, dFF / 4, dFF / 2, dFF],
  vocabSize: 256,
  maxSeqLen: 2048,
});
const half = Array.from({ length: nLayers }, (_, l) => (l === 1 ? 0 : dFF / 2));

/** Peak resident set of this process so far, in MiB. */
function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
}

/** Synthetic bytes for tensor number `i`: a cheap deterministic pattern, not zeros (no sparse files). */
function synthetic(bytes: number, i: number): Uint8Array {
  const out = new Uint32Array(Math.ceil(bytes / 4));
  let s = (i + 1) * 2654435761;
  for (let k = 0; k < out.length; k++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[k] = (s & 0x3fffffff) | 0x3c000000; // finite positive floats of moderate size
  }
  return new Uint8Array(out.buffer, 0, bytes);
}

async function build(dir: string): Promise<void> {
  const size = dtype === 'F32' ? 4 : 2;
  const tensors = hfTensorSpecs(config).map((s, i) => ({
    name: s.hfName,
    dtype,
    shape: s.shape,
    body: () => synthetic(s.shape.reduce((x, y) => x * y, 1) * size, i),
  }));
  const json = toHFConfig(config, {
    torchDtype: { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[dtype],
  });
  await writeHFDirectory(dir, json, tensors, { maxShardBytes: 2 ** 30 });
}

async function check(src: string, dst: string): Promise<string> {
  const [s, d] = await Promise.all([openHFDirectory(src), openHFDirectory(dst)]);
  try {
    // Sliced layer 1 = source layer 2: down's first dFF/2 columns of row 7.
    const name = (l: number) => `model.layers.${l}.mlp.down_proj.weight`;
    const a = s.tensors.get(name(2))!;
    const b = d.tensors.get(name(1))!;
    const size = dtype === 'F32' ? 4 : 2;
    const row = 7;
    const want = await a.reader.read(name(2), row * dFF, row * dFF + dFF / 2);
    const got = await b.reader.read(name(1), row * (dFF / 2), (row + 1) * (dFF / 2));
    if (!Buffer.from(want).equals(Buffer.from(got))) throw new Error('sliced bytes differ');
    return `${d.tensors.size} tensors, down row ${row} = source's first ${dFF / 2} columns (${(dFF / 2) * size} bytes)`;
  } finally {
    await Promise.all([s.close(), d.close()]);
  }
}

function du(dir: string): number {
  return readdirSync(dir).reduce((t, f) => t + statSync(join(dir, f)).size, 0);
}

/** Runs one phase in a child process and returns its JSON report. */
function phase(...args: string[]): { seconds: number; peakMiB: number; note?: string } {
  const out = execFileSync(
    process.execPath,
    [...process.execArgv, process.argv[1], ...process.argv.slice(2), '--', ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.trim().split('\n').pop()!);
}

async function child(cmd: string, src: string, dst: string): Promise<void> {
  const t0 = performance.now();
  let note: string | undefined;
  if (cmd === 'build') await build(src);
  else if (cmd === 'slice') await sliceHFDirectory(src, dst, half);
  else if (cmd === 'check') note = await check(src, dst);
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`${JSON.stringify({ seconds, peakMiB: peakRssMiB(), note })}\n`);
}

async function main(): Promise<void> {
  if (positionals.length === 3) return child(positionals[0], positionals[1], positionals[2]);
  const root = mkdtempSync(join(tmpdir(), 'bench-hf-slice-'));
  const src = join(root, 'src');
  const dst = join(root, 'dst');
  try {
    const baseline = phase('noop', src, dst); // node + imports, no work
    const b = phase('build', src, dst);
    const s = phase('slice', src, dst);
    const c = phase('check', src, dst);
    const [srcBytes, dstBytes] = [du(src), du(dst)];
    const gb = (x: number) => `${(x / 1e9).toFixed(2)} GB`;
    const rows = [
      ['phase', 'wall s', 'peak RSS MiB', 'data'],
      ['node + imports', baseline.seconds.toFixed(2), baseline.peakMiB.toFixed(0), ''],
      ['build (stream write)', b.seconds.toFixed(1), b.peakMiB.toFixed(0), gb(srcBytes)],
      [
        `slice → [${half.join(',')}]`,
        s.seconds.toFixed(1),
        s.peakMiB.toFixed(0),
        `${gb(srcBytes)} → ${gb(dstBytes)}`,
      ],
      ['check', c.seconds.toFixed(2), c.peakMiB.toFixed(0), c.note ?? ''],
    ];
    const w = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
    process.stdout.write(
      `HF streaming slice: ${nLayers} layers, dModel ${dModel}, dFF ${dFF}, ${dtype}; largest tensor ${gb(dModel * dFF * (dtype === 'F32' ? 4 : 2))}\n`,
    );
    for (const r of rows) process.stdout.write(`${r.map((x, j) => x.padEnd(w[j])).join('  ')}\n`);
    process.stdout.write(
      `slice throughput ${(srcBytes / 1e6 / s.seconds).toFixed(0)} MB/s read-side\n`,
    );
  } finally {
    if (a.keep) process.stdout.write(`kept ${root}\n`);
    else rmSync(root, { recursive: true, force: true });
  }
}

void main().catch((e: Error) => {
  process.stderr.write(`error: ${e.message}\n`);
  process.exit(1);
});
