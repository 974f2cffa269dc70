import { mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { appendFileChecked, ConfigError, writeFileAtomic } from '@matformer/core';

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
  return parseJson(await readFile(path, 'utf8'), path) as T;
}

/** Line (1-based) of a character offset. */
const lineAt = (text: string, pos: number) => text.slice(0, pos).split('\n').length;

/** JSON.parse whose error names the file and the line (V8 gives only a character position). */
function parseJson(text: string, path: string, line = 0): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /at position (\d+)/.exec(msg);
    const at = line || (pos ? lineAt(text, Number(pos[1])) : lineAt(text, text.trimEnd().length));
    throw new ConfigError(`${path} line ${at}: not valid JSON (${msg}); the file is corrupt`);
  }
}

/**
 * The records of metrics.jsonl. A final line without its newline is what a kill during an
 * append leaves: it is dropped (with a note through `warn`) when it does not parse. A bad line
 * anywhere else means the file is corrupt: the error names the file and the line.
 */
function parseMetrics(
  text: string,
  path: string,
  warn: (message: string) => void,
): { records: Record<string, unknown>[]; lines: string[] } {
  const lines = text.split('\n');
  const torn = lines.pop()!; // '' when the file ends with a newline
  const records: Record<string, unknown>[] = [];
  const kept: string[] = [];
  lines.forEach((l, i) => {
    if (!l.trim()) return;
    const r = parseJson(l, path, i + 1);
    if (r === null || typeof r !== 'object' || Array.isArray(r))
      throw new ConfigError(`${path} line ${i + 1}: not a metrics record (a JSON object)`);
    records.push(r as Record<string, unknown>);
    kept.push(l);
  });
  if (torn.trim()) {
    try {
      records.push(JSON.parse(torn) as Record<string, unknown>);
      kept.push(torn);
    } catch {
      warn(
        `${path}: dropped an incomplete last line (line ${lines.length + 1}, ${torn.length} bytes; a run stopped mid-write)`,
      );
    }
  }
  return { records, lines: kept };
}

const stderrWarn = (message: string): void => {
  process.stderr.write(`${message}\n`);
};

export async function appendMetric(dir: string, record: Record<string, unknown>): Promise<void> {
  // A metrics.jsonl that is a device, FIFO or directory is refused, not written into.
  await appendFileChecked(runPath(dir, 'metrics'), JSON.stringify(record) + '\n');
}

/** Drops metric lines past `step` (logged after the checkpoint a resumed run restarts from). */
export async function truncateMetrics(dir: string, step: number, warn = stderrWarn): Promise<void> {
  const path = runPath(dir, 'metrics');
  if (!existsSync(path)) return;
  const { records, lines } = parseMetrics(await readFile(path, 'utf8'), path, warn);
  const kept = lines.filter((_, i) => (records[i] as { step?: number }).step! <= step);
  await writeFileAtomic(path, kept.map((l) => l + '\n').join(''));
}

export async function readMetrics(
  dir: string,
  warn = stderrWarn,
): Promise<Record<string, unknown>[]> {
  const path = runPath(dir, 'metrics');
  if (!existsSync(path)) return [];
  return parseMetrics(await readFile(path, 'utf8'), path, warn).records;
}
