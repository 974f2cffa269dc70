import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CheckpointError, MatformerError } from '../../errors';
import { checkWritableDir, dirWriteError, writeFileAtomic } from '../atomic-write';
import {
  SafetensorsReader,
  tensorBytes,
  writeSafetensorsStream,
  type TensorHeader,
} from '../safetensors-stream';
import type { TensorSpan } from '../safetensors';

/**
 * The Hugging Face directory layout: config.json beside either model.safetensors or shards
 * model-0000i-of-0000n.safetensors listed by model.safetensors.index.json
 * ({"metadata": {"total_size": bytes}, "weight_map": {tensor name: shard file}}).
 */

export const CONFIG_FILE = 'config.json';
export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';
/** safetensors metadata transformers requires ("pt"; 4.57 refuses other formats). */
export const HF_METADATA = { format: 'pt' };

/**
 * Whether `dir` is a Hugging Face directory: a config.json naming a `model_type` (as
 * transformers writes it; a training run's config.json has none) beside model.safetensors or
 * an index.
 */
export function isHFDirectory(dir: string): boolean {
  if (!existsSync(join(dir, SINGLE_FILE)) && !existsSync(join(dir, INDEX_FILE))) return false;
  try {
    const json = JSON.parse(readFileSync(join(dir, CONFIG_FILE), 'utf8')) as unknown;
    return typeof (json as { model_type?: unknown })?.model_type === 'string';
  } catch {
    return false;
  }
}

/** An open HF directory: its config.json, and each tensor's file and header entry. */
export interface HFDirectory {
  dir: string;
  configJson: unknown;
  /** The file that lists the tensors: the index, or the single safetensors file. */
  listing: string;
  /** Every tensor in the directory, by HF name. */
  tensors: Map<string, { reader: SafetensorsReader; span: TensorSpan }>;
  close(): Promise<void>;
}

export async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CheckpointError(
      `${path}: ${code === 'ENOENT' ? `${what} is missing` : (e as Error).message}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${path}: ${what} is not valid JSON (${(e as Error).message})`);
  }
}

/** Opens an HF directory: reads config.json and the headers of its safetensors file(s). */
export async function openHFDirectory(dir: string): Promise<HFDirectory> {
  if (!existsSync(dir) || !(await stat(dir)).isDirectory())
    throw new CheckpointError(`${dir}: not a directory`);
  const configJson = await readJson(join(dir, CONFIG_FILE), CONFIG_FILE);
  const readers: SafetensorsReader[] = [];
  const close = async () => {
    await Promise.all(readers.map((r) => r.close()));
  };
  const tensors: HFDirectory['tensors'] = new Map();
  const indexPath = join(dir, INDEX_FILE);
  const single = join(dir, SINGLE_FILE);
  const listing = existsSync(indexPath) ? indexPath : single;
  try {
    if (listing === indexPath) {
      const index = (await readJson(indexPath, INDEX_FILE)) as Record<string, unknown>;
      const map = index?.weight_map as Record<string, unknown> | undefined;
      if (!map || typeof map !== 'object' || Array.isArray(map))
        throw new CheckpointError(`${indexPath}: "weight_map" is missing or not an object`);
      const files = [...new Set(Object.values(map))];
      for (const f of files)
        if (typeof f !== 'string' || f.includes('/') || f.includes('\\') || f.startsWith('.'))
          throw new CheckpointError(
            `${indexPath}: weight_map names an invalid file ${JSON.stringify(f)}`,
          );
      const byFile = new Map<string, SafetensorsReader>();
      for (const f of files as string[]) {
        const path = join(dir, f);
        if (!existsSync(path))
          throw new CheckpointError(`${indexPath}: shard file ${path} is missing`);
        const r = await SafetensorsReader.open(path);
        readers.push(r);
        byFile.set(f, r);
      }
      for (const [name, f] of Object.entries(map)) {
        const reader = byFile.get(f as string)!;
        const span = reader.tensors.get(name);
        if (!span)
          throw new CheckpointError(
            `${indexPath}: weight_map puts tensor "${name}" in ${f}, which does not hold it`,
          );
        tensors.set(name, { reader, span });
      }
      for (const r of readers)
        for (const name of r.tensors.keys())
          if (map[name] !== basename(r.path))
            throw new CheckpointError(
              `${r.path}: tensor "${name}" is not listed in ${INDEX_FILE} for this file`,
            );
    } else {
      if (!existsSync(single))
        throw new CheckpointError(`${dir}: neither ${SINGLE_FILE} nor ${INDEX_FILE} is there`);
      const r = await SafetensorsReader.open(single);
      readers.push(r);
      for (const [name, span] of r.tensors) tensors.set(name, { reader: r, span });
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { dir, configJson, listing, tensors, close };
}

/** A tensor to write: its HF header entry and a function giving its bytes when its turn comes. */
export interface OutTensor extends TensorHeader {
  body: () => Promise<Uint8Array> | Uint8Array;
}

export interface WriteDirOptions {
  /** Split into shards of at most this many bytes of tensor data (a tensor is never split). */
  maxShardBytes?: number;
}

/** Groups tensors, in order, into shards of at most `max` bytes (one tensor per shard if bigger). */
function planShards(tensors: OutTensor[], max: number): OutTensor[][] {
  const shards: OutTensor[][] = [];
  let size = 0;
  for (const t of tensors) {
    const b = tensorBytes(t);
    if (shards.length === 0 || (size + b > max && size > 0)) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1].push(t);
    size += b;
  }
  return shards;
}

/**
 * Writes an HF directory (config.json + one safetensors file, or shards + index) tensor by
 * tensor. Atomic as a whole: everything goes to a temp directory beside `dir`, renamed onto
 * `dir` at the end; an existing `dir` must be empty or an HF directory (it is replaced).
 */
export async function writeHFDirectory(
  dir: string,
  configJson: unknown,
  tensors: OutTensor[],
  opts: WriteDirOptions = {},
): Promise<void> {
  if (opts.maxShardBytes !== undefined && !(opts.maxShardBytes > 0))
    throw new CheckpointError(`maxShardBytes must be > 0, got ${opts.maxShardBytes}`);
  checkWritableDir(dir, 'the Hugging Face directory'); // a file, FIFO or device: nothing is written
  if (existsSync(dir)) {
    const entries = await readdir(dir);
    if (entries.length > 0 && !entries.includes(CONFIG_FILE))
      throw new CheckpointError(
        `${dir} exists and is not a Hugging Face directory (no ${CONFIG_FILE}); refusing to replace it`,
      );
  }
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) throw new CheckpointError(`${dir}: tensor "${t.name}" written twice`);
    seen.add(t.name);
  }
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await mkdir(dirname(dir), { recursive: true });
    await mkdir(tmp);
  } catch (e) {
    throw dirWriteError(dir, e, 'the Hugging Face directory'); // names the user's path, not tmp
  }
  try {
    const total = tensors.reduce((a, t) => a + tensorBytes(t), 0);
    const shards =
      opts.maxShardBytes !== undefined && total > opts.maxShardBytes
        ? planShards(tensors, opts.maxShardBytes)
        : [tensors];
    const body = (t: TensorHeader) => (t as OutTensor).body();
    if (shards.length === 1) {
      await writeSafetensorsStream(join(tmp, SINGLE_FILE), shards[0], HF_METADATA, body);
    } else {
      const n = shards.length;
      const pad = (i: number) => String(i).padStart(5, '0');
      const weightMap: Record<string, string> = {};
      for (let i = 0; i < n; i++) {
        const file = `model-${pad(i + 1)}-of-${pad(n)}.safetensors`;
        await writeSafetensorsStream(join(tmp, file), shards[i], HF_METADATA, body);
        for (const t of shards[i]) weightMap[t.name] = file;
      }
      const index = { metadata: { total_size: total }, weight_map: weightMap };
      await writeFileAtomic(join(tmp, INDEX_FILE), JSON.stringify(index, null, 2) + '\n');
    }
    // config.json last: a directory is complete once it has one (and only then is it renamed).
    await writeFileAtomic(join(tmp, CONFIG_FILE), JSON.stringify(configJson, null, 2) + '\n');
    if (existsSync(dir)) {
      const old = `${dir}.old-${process.pid}-${randomBytes(6).toString('hex')}`;
      await rename(dir, old);
      await rename(tmp, dir);
      await rm(old, { recursive: true, force: true });
    } else await rename(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e instanceof MatformerError ? e : dirWriteError(dir, e, 'the Hugging Face directory');
  }
}
