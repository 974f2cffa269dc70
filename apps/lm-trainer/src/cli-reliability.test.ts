import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lmTrainer } from './test-cli';

// Issue #23: each probe gets one line naming the input, exit 1, and no native log or stack.

/** The error lines of stderr (npm's own warnings and the backend line left out). */
const errorLines = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('npm warn') && !l.startsWith('backend:'));

/** Exit 1 with exactly one line, "error: …" matching `message`, and no native log or stack. */
function expectOneLine(r: { code: number; stderr: string }, message: string | RegExp) {
  expect(r.code, r.stderr).toBe(1);
  const lines = errorLines(r.stderr);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(typeof message === 'string' ? `error: ${message}` : message);
  expect(r.stderr).not.toMatch(/node:internal|\x1b\[|\[E:onnxruntime|\n\s+at /);
}

describe('lm-trainer reliability (issue #23)', () => {
  let dir: string;
  let runDir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lm-trainer-rel-'));
    runDir = join(dir, 'r20');
    const t = await lmTrainer(
      'train',
      ...['--preset', 'tiny', '--steps', '20', '--run', runDir, '--no-sample'],
    );
    expect(t.code, t.stderr).toBe(0);
  }, 240_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('export --out refuses a FIFO or a device before writing, and names an unwritable path', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expectOneLine(
      await lmTrainer('export', '--run', runDir, '--out', fifo),
      `cannot write --out ${fifo}: it is a FIFO (named pipe), not a regular file`,
    );
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    // Character devices (/dev/full) are tested on checkOutFile and checkWritablePath alone: a
    // regression here would rename over the device (this test may run as root).
    expectOneLine(
      await lmTrainer('export', '--run', runDir, '--out', '/proc/x.onnx'),
      /^error: cannot write \/proc\/x\.onnx: E[A-Z]+: /,
    );
    expectOneLine(
      await lmTrainer('export', '--run', runDir, '--out', ''),
      '--out is empty: give the file to write, e.g. model.onnx',
    );
  }, 120_000);

  it('generate: a --prompt too long for onnxruntime is refused; --prompt-file takes it', async () => {
    const long = 'Call me Ishmael. '.repeat(1800); // 30,600 bytes: onnxruntime-node crashed
    expectOneLine(
      await lmTrainer('generate', '--run', runDir, '--prompt', long),
      '--prompt is 30,600 bytes, over the 16 KiB allowed on the command line',
    );
    const file = join(dir, 'prompt.txt');
    await writeFile(file, long);
    const r = await lmTrainer(
      'generate',
      ...['--run', runDir, '--prompt-file', file, '--max-tokens', '5', '--engine', 'ort'],
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith(long)).toBe(true);
  }, 120_000);

  it('generate --onnx runs from the .onnx file alone', async () => {
    const onnx = join(dir, 'm.onnx');
    const e = await lmTrainer('export', '--run', runDir, '--out', onnx, '--widths', '32');
    expect(e.code, e.stderr).toBe(0);
    const r = await lmTrainer(
      'generate',
      ...['--run', join(dir, 'none'), '--onnx', onnx, '--prompt', 'Call me', '--max-tokens', '5'],
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Call me/);
    expect(r.stdout).toMatch(/\[onnxruntime-cpu .*\] 5 tokens/);
    // --widths must be the file's (it was ignored before); without a run they are refused.
    expectOneLine(
      await lmTrainer('generate', '--run', runDir, '--onnx', onnx, '--widths', '16'),
      `--widths [16, 16] do not match --onnx ${onnx}, which holds widths [32, 32]`,
    );
    expectOneLine(
      await lmTrainer('generate', '--run', join(dir, 'none'), '--onnx', onnx, '--widths', '32'),
      `--widths and --slices name widths of a trained model (${join(dir, 'none')} holds none)`,
    );
    expectOneLine(
      await lmTrainer('generate', '--run', join(dir, 'none'), '--onnx', onnx, '--speculative'),
      `--onnx ${onnx} --speculative drafts with submodels of the trained model: give the draft as --draft-onnx FILE, or the model with --run DIR or --checkpoint FILE`,
    );
  }, 120_000);

  it('--device cuda without the CUDA provider: one message on train, resume, eval and generate', async () => {
    const cuda =
      /^error: --device cuda: onnxruntime-node could not start its CUDA execution provider \(.+\); install onnxruntime-node with its CUDA binaries .* or use --device cpu$/;
    const runs = await Promise.all([
      lmTrainer('train', '--run', join(dir, 'cuda'), '--preset', 'tiny', '--device', 'cuda'),
      lmTrainer('resume', '--run', runDir, '--device', 'cuda'),
      lmTrainer('eval', '--run', runDir, '--device', 'cuda'),
      lmTrainer('generate', '--run', runDir, '--device', 'cuda'),
    ]);
    if (runs.every((r) => r.code === 0)) return; // a machine with CUDA
    for (const r of runs) expectOneLine(r, cuda);
    expect(existsSync(join(dir, 'cuda', 'config.json'))).toBe(false);
  }, 240_000);

  it('--data that is a device is refused, naming it', async () => {
    expectOneLine(
      await lmTrainer(
        'train',
        '--preset',
        'tiny',
        '--run',
        join(dir, 'null'),
        '--data',
        '/dev/null',
      ),
      'text source /dev/null is a character device, not a regular file',
    );
  }, 120_000);

  it('search caps --eval-windows at the distinct held-out windows, as eval does', async () => {
    const r = await lmTrainer(
      'search',
      ...['--run', runDir, '--budget', 'params=70%', '--evaluations', '2'],
      ...['--eval-windows', '1000000'],
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /note: --eval-windows 1000000 capped at \d+, the distinct windows of 16 tokens in each half of the held-out text/,
    );
  }, 180_000);

  it('resume says when nothing would be trained, and extends at the final learning rate', async () => {
    expectOneLine(
      await lmTrainer('resume', '--run', runDir, '--steps', '4'),
      `steps 4: the run in ${runDir} is already at step 20, so nothing would be trained; give more than 20 steps to extend it`,
    );
    expectOneLine(
      await lmTrainer('resume', '--run', runDir),
      `${runDir} is complete (step 20 of 20): nothing to train; extend it with --steps N (N > 20)`,
    );
    const more = await lmTrainer('resume', '--run', runDir, '--steps', '22', '--no-sample');
    expect(more.code, more.stderr).toBe(0);
    expect(more.stderr).toMatch(
      /resuming .* at step 20 of 22 \(the learning-rate schedule ends at step 20, as the original run's; the steps after it train at its final rate \d\.\d\de-\d\)/,
    );
    const lrs = (await readFile(join(runDir, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((m) => m.type === 'step')
      .map((m) => m.lr);
    expect(lrs.slice(19)).toEqual([lrs[19], lrs[19], lrs[19]]);
    const help = await lmTrainer('resume', '--help');
    expect(help.stdout.replace(/\s+/g, ' ')).toMatch(
      'NOT the same as an uninterrupted run of n steps',
    );
  }, 180_000);
});
