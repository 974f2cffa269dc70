import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendMetric, readMetrics, readRunConfig, runPath, truncateMetrics } from './run-dir';

const line = (step: number) => JSON.stringify({ type: 'step', step, loss: 1 / step });

describe('run directory files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'run-dir-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('refuses to append metrics to something that is not a regular file (issue #23)', async () => {
    const metrics = runPath(dir, 'metrics');
    await mkdir(metrics);
    await expect(appendMetric(dir, { type: 'step', step: 1 })).rejects.toThrow(
      `cannot write ${metrics}: it is a directory, not a regular file`,
    );
  });

  it('drops a torn last metrics line (what a kill leaves) and says so', async () => {
    const metrics = runPath(dir, 'metrics');
    await writeFile(metrics, `${line(1)}\n${line(2)}\n${line(3)}\n{"type":"step","st`);
    const notes: string[] = [];
    await truncateMetrics(dir, 2, (m) => notes.push(m));
    expect(await readFile(metrics, 'utf8')).toBe(`${line(1)}\n${line(2)}\n`);
    expect(notes).toEqual([
      `${metrics}: dropped an incomplete last line (line 4, 18 bytes; a run stopped mid-write)`,
    ]);
    await writeFile(metrics, `${line(1)}\n{"ty`);
    expect(await readMetrics(dir, () => undefined)).toEqual([JSON.parse(line(1))]);
  });

  it('keeps a complete last record that only lacks its newline', async () => {
    await writeFile(runPath(dir, 'metrics'), `${line(1)}\n${line(2)}`);
    const notes: string[] = [];
    expect(await readMetrics(dir, (m) => notes.push(m))).toHaveLength(2);
    expect(notes).toEqual([]);
  });

  it('names the file and the line of a corrupt metrics line elsewhere', async () => {
    const metrics = runPath(dir, 'metrics');
    await writeFile(metrics, `${line(1)}\n{"type":"st\n${line(3)}\n`);
    await expect(truncateMetrics(dir, 3)).rejects.toThrow(`${metrics} line 2: not valid JSON (`);
    await writeFile(metrics, `${line(1)}\nnull\n`);
    await expect(readMetrics(dir)).rejects.toThrow(
      `${metrics} line 2: not a metrics record (a JSON object)`,
    );
  });

  it('names the file and the line of a corrupt config.json', async () => {
    const config = runPath(dir, 'config');
    await writeFile(config, '{\n  "model": {},\n  "train": { "steps" 10 },\n  "x": 1\n}\n');
    await expect(readRunConfig(dir)).rejects.toThrow(
      new RegExp(`^${config} line 3: not valid JSON \\(.*\\); the file is corrupt$`),
    );
    await writeFile(config, '{\n  "model": {');
    await expect(readRunConfig(dir)).rejects.toThrow(`${config} line 2: not valid JSON`);
  });
});
