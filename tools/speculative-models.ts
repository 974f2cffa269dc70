// The models speculative decoding is measured on, shared by tools/bench-speculative.ts and the
// report: a MatLM trained jointly on Moby Dick (onnxruntime engine) and an independent dense model
// of its smallest width, same data, steps and recipe. Each is cached in `<root>/<name>` by its
// full spec (trained once, reused after, resumed if interrupted), so the benchmark and the report
// share one training when they use the same root.
import { MatLM, modelOf, type MatLMConfig } from '@matformer/core';
import {
  baselineConfig,
  lmTask,
  loadOrTrain,
  readMetrics,
  type TextCorpus,
} from '@matformer/train';

export interface SpeculativeTraining {
  /** Names the cache directories (e.g. the preset). */
  label: string;
  config: MatLMConfig;
  steps: number;
  batchSize: number;
  seqLen: number;
}

export interface SpeculativeModels {
  model: MatLM;
  /** The independent dense model of the MatLM's smallest width. */
  baseline: MatLM;
  /** Held-out bits/byte at the end of training, by granularity ("256", …) and for the baseline. */
  heldOut: { matformer: Record<string, number>; baseline: number };
}

/** The final held-out bits/byte per row of the run in `dir` (from its metrics.jsonl). */
async function finalHeldOut(dir: string): Promise<Record<string, number>> {
  const evals = (await readMetrics(dir)).filter((r) => r.type === 'eval') as unknown as {
    rows: { name: string; bitsPerToken: number }[];
  }[];
  const last = evals[evals.length - 1];
  return Object.fromEntries((last?.rows ?? []).map((r) => [r.name, r.bitsPerToken]));
}

export async function speculativeModels(opts: {
  root: string;
  training: SpeculativeTraining;
  corpus: TextCorpus;
  /** onnxruntime intra-op threads for training (default: every core). */
  threads?: number;
  log: (line: string) => void;
}): Promise<SpeculativeModels> {
  const { label, config, steps, batchSize, seqLen } = opts.training;
  const g0 = config.granularities[0];
  const train = {
    steps,
    lr: 2e-3,
    warmupSteps: Math.min(30, Math.floor(steps / 10)),
    evalEvery: 0,
    checkpointEvery: 50, // an interrupted run resumes
    seed: 0,
  };
  const one = async (dir: string, cfg: MatLMConfig, what: string) => {
    const t0 = performance.now();
    const run = await loadOrTrain({
      dir: `${opts.root}/${dir}`,
      spec: { config: cfg, train, batchSize, seqLen },
      create: () => MatLM.create(cfg, 0),
      makeTask: (m) => lmTask(m, opts.corpus, { batchSize, seqLen, evalWindows: 32 }),
      train,
      accept: (m, path) => modelOf(m, 'matlm', path),
      init: {
        engine: 'ort', // onnxruntime training: ~10× tfjs on a CPU
        threads: opts.threads,
        reporter: {
          onStep: (m) => {
            if (m.step % 25 === 0 || m.step === steps)
              opts.log(
                `  ${what} step ${m.step}/${steps}: loss ${m.loss.toFixed(2)} (${(m.ms / 1000).toFixed(1)} s/step, ${((performance.now() - t0) / 1000).toFixed(0)} s)`,
              );
          },
        },
      },
      log: (line) => opts.log(`  ${what}: ${line}`),
    });
    return { model: run.model, heldOut: await finalHeldOut(run.dir) };
  };
  const m = await one(
    `matformer-${label}-s${steps}-b${batchSize}x${seqLen}`,
    config,
    `MatFormer ${label} (joint, ${config.granularities.length} granularities)`,
  );
  const b = await one(
    `independent-${label}-w${g0}-s${steps}-b${batchSize}x${seqLen}`,
    baselineConfig(config, g0),
    `independent dense model, FFN width ${g0}`,
  );
  const fmt = (h: Record<string, number>) =>
    Object.entries(h)
      .map(([k, v]) => `${k}: ${v.toFixed(3)}`)
      .join(', ');
  opts.log(`  held-out bits/byte: MatFormer ${fmt(m.heldOut)}; independent ${fmt(b.heldOut)}`);
  return {
    model: m.model,
    baseline: b.model,
    heldOut: { matformer: m.heldOut, baseline: Object.values(b.heldOut)[0] ?? NaN },
  };
}
