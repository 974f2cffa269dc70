import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic, type LMEngine } from '@matformer/core';
import { calibrateSpeculative, type SpeculativeCalibration } from '@matformer/speculative';

/** The calibration cache, beside the model it measured. */
export const CALIBRATION_FILE = 'speculative-calibration.json';

interface CacheFile {
  version: 1;
  entries: Record<string, SpeculativeCalibration & { date: string }>;
}

/**
 * A calibration of these engines (see `calibrateSpeculative`), read from the JSON cache beside
 * the model when one was measured for the same model file, engines and sampling mode, else
 * measured now (a second or two) and stored.
 */
export async function cachedCalibration(
  modelFile: string | undefined,
  verifier: LMEngine<unknown>,
  drafts: { label: string; engine: LMEngine<unknown> }[],
  sampling: { temperature?: number; topK?: number; topP?: number; seed?: number },
  log: (line: string) => void,
): Promise<SpeculativeCalibration> {
  const path = modelFile ? join(dirname(modelFile), CALIBRATION_FILE) : undefined;
  const stat = modelFile && existsSync(modelFile) ? statSync(modelFile) : undefined;
  const key = JSON.stringify({
    model: stat ? `${modelFile}:${stat.size}:${stat.mtimeMs}` : modelFile,
    verifier: verifier.name,
    drafts: drafts.map((d) => `${d.label}=${d.engine.name}`),
    mode: (sampling.temperature ?? 0) > 0 ? 'sample' : 'greedy',
  });
  let cache: CacheFile = { version: 1, entries: {} };
  if (path && existsSync(path)) {
    try {
      const read = JSON.parse(await readFile(path, 'utf8')) as CacheFile;
      if (read.version === 1 && read.entries) cache = read;
    } catch {
      /* unreadable: measure again and overwrite */
    }
  }
  const hit = cache.entries[key];
  if (hit) {
    log(`speculative calibration: cached in ${path} (${hit.date})`);
    return hit;
  }
  log('speculative calibration: measuring step costs and acceptance …');
  const cal = await calibrateSpeculative(verifier, drafts, { ...sampling, tokens: 48 });
  if (path) {
    cache.entries[key] = { ...cal, date: new Date().toISOString() };
    try {
      await writeFileAtomic(path, JSON.stringify(cache, null, 2) + '\n');
    } catch {
      /* a read-only run directory: the calibration is simply not kept */
    }
  }
  return cal;
}

/** Human-readable lines of a calibration (stderr). */
export function describeCalibration(cal: SpeculativeCalibration): string[] {
  return [
    `  verifier step ${cal.verifierStepMs.toFixed(2)} ms; verifying k+1 tokens costs ${cal.verifyCost
      .map((v, i) => `${v.toFixed(2)}× (k=${i + 1})`)
      .slice(0, 4)
      .join(', ')} … a step`,
    ...cal.drafts.map(
      (d) =>
        `  draft ${d.label}: step ${d.stepMs.toFixed(2)} ms (c = ${d.c.toFixed(2)}), acceptance α ${d.alpha.toFixed(2)}, best k ${d.k} → predicted ${d.speedup.toFixed(2)}×`,
    ),
  ];
}
