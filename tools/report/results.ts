// The measured results the report is written from (also saved as report/results.json).
import type { LargeSpecResult } from './speculative-large';
import type { ConsistencyRow, SpeculativeResult } from './decoding';
import type { LossRow } from './lm';
import type { MixResult } from './mix';
import type { Settings } from './settings';
import type { AccuracyRow, RetrievalResult } from './vit';

export interface TrainingRow {
  name: string;
  seed: number;
  family: 'lm' | 'vit';
  /** FFN widths trained jointly (MatFormer: all granularities; a baseline: one). */
  widths: number[];
  params: number;
  steps: number;
  seconds: number;
  reused: boolean;
}

export interface Environment {
  command: string;
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  backend: string;
  /** Training engine of every model (and of the held-out scoring). */
  engine: string;
  /** 1-minute load average at the start and at the end of the run. */
  load: [number, number];
}

export interface Results {
  env: Environment;
  settings: Settings;
  training: TrainingRow[];
  /**
   * Training loss curves of the full-width models (MatLM full granularity, full baseline), one
   * per seed (settings order).
   */
  curves: { matformer: { step: number; loss: number }[][]; baseline: { step: number; loss: number }[][] };
  lm: {
    tokensPerModel: number;
    /**
     * Held-out loss (nats) of every granularity during training, per MatLM seed (settings
     * order): at every evalEvery steps and at the end; losses in ascending width order.
     */
    heldOut: { step: number; losses: number[] }[][];
    losses: LossRow[];
    mix: MixResult;
    consistency: ConsistencyRow[];
    /** One result per decoding engine measured (settings.speculative.engines). */
    speculative: SpeculativeResult[];
    /** On the `large` preset and the decoder graph (absent where onnxruntime does not load). */
    speculativeLarge?: LargeSpecResult;
  };
  vit: {
    imagesPerModel: number;
    accuracy: AccuracyRow[];
    retrieval: RetrievalResult;
  };
  /** Wall-clock seconds of each stage of this invocation. */
  timings: Record<string, number>;
}
