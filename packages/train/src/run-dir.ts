import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@matformer/core';

/** Files of a run directory. */
export const runFiles = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  checkpoint: 'checkpoint.safetensors',
  model: 'model.safetensors',
} as const;

export function runPath(dir: string, file: keyof typeof runFiles): string {
  return join(dir, runFiles[file]);
}

export async function writeRunConfig(dir: string, config: unknown): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(runPath(dir, 'config'), JSON.stringify(config, null, 2) + '\n');
}

export async function readRunConfig<T>(dir: string): Promise<T> {
  const path = runPath(dir, 'config');
  if (!existsSync(path)) throw new Error(`${dir} is not a run directory (no ${runFiles.config})`);
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

export async function appendMetric(dir: string, record: Record<string, unknown>): Promise<void> {
  await appendFile(runPath(dir, 'metrics'), JSON.stringify(record) + '\n');
}

/** Drops metric lines past `step` (logged after the checkpoint a resumed run restarts from). */
export async function truncateMetrics(dir: string, step: number): Promise<void> {
  const path = runPath(dir, 'metrics');
  if (!existsSync(path)) return;
  const kept = (await readFile(path, 'utf8'))
    .split('\n')
    .filter((line) => line.trim() && (JSON.parse(line) as { step?: number }).step! <= step);
  await writeFileAtomic(path, kept.map((l) => l + '\n').join(''));
}

export async function readMetrics(dir: string): Promise<Record<string, unknown>[]> {
  const path = runPath(dir, 'metrics');
  if (!existsSync(path)) return [];
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
