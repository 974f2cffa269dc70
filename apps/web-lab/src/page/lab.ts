import {
  createModel,
  flopsPerToken,
  paramCount,
  type LanguageModel,
  type LMEngine,
  type Widths,
} from '@matformer/core';
import { decoderUnsupported, OnnxDecoderEngine, OnnxLMEngine, toOnnx } from '@matformer/core/onnx';
import {
  generate,
  speculativeGenerate,
  type GenerateStats,
  type SpeculativeStats,
} from '@matformer/speculative';
import {
  evaluateOnOrt,
  lmTask,
  Trainer,
  type EvalRow,
  type StepMetrics,
  type TextCorpus,
} from '@matformer/train';
import { configOf, DATA_DEFAULTS, trainOptionsOf, type TrainSettings } from './settings';

/** What one generation produced, and how fast. */
export interface Generation {
  tokens: number[];
  /** Tokens per second over the whole call (prefill included). */
  tokensPerSecond: number;
  stats: GenerateStats | SpeculativeStats;
}

export interface TrainCallbacks {
  onStep(m: StepMetrics): void;
  onEval(step: number, rows: EvalRow[]): void;
  /** Checked before each step: true ends the run early (the weights so far are kept). */
  stopRequested(): boolean;
}

/**
 * The page's model and everything done with it, with no DOM: train it jointly on the corpus,
 * measure any Mix'n'Match widths, decode plainly or speculatively, and write it as files.
 * Training and scoring run on onnxruntime (onnxruntime-web in the tab), as `lm-trainer train
 * --engine ort` does in Node.
 */
export class Lab {
  private constructor(
    readonly model: LanguageModel,
    readonly corpus: TextCorpus,
    private readonly settings: TrainSettings,
  ) {}

  /** A freshly initialised model for these settings (the seed fixes the weights). */
  static fresh(settings: TrainSettings, corpus: TextCorpus): Lab {
    const model = createModel(configOf(settings), undefined, settings.seed) as LanguageModel;
    return new Lab(model, corpus, settings);
  }

  /** A lab around a model read from a file; trains with `settings`' data options. */
  static around(model: LanguageModel, corpus: TextCorpus, settings: TrainSettings): Lab {
    return new Lab(model, corpus, settings);
  }

  /** The same model (not a copy) with another training text. */
  withCorpus(corpus: TextCorpus): Lab {
    return new Lab(this.model, corpus, this.settings);
  }

  get config(): LanguageModel['config'] {
    return this.model.config;
  }

  private task(seqLen = this.settings.seqLen) {
    return lmTask(this.model, this.corpus, {
      batchSize: this.settings.batchSize,
      seqLen: Math.min(seqLen ?? this.config.maxSeqLen, this.config.maxSeqLen),
      evalWindows: DATA_DEFAULTS.evalWindows,
    });
  }

  /**
   * Trains every granularity jointly for settings.steps steps (the CLI's Trainer, engine ort),
   * evaluating held-out loss first, every evalEvery steps and at the end. Returns the final rows.
   */
  async train(cb: TrainCallbacks): Promise<EvalRow[]> {
    const task = this.task();
    const trainer = new Trainer(task, trainOptionsOf(this.settings), { engine: 'ort' });
    try {
      await trainer.prepare(); // builds the training graph once; a bad model fails here
      let rows = (await trainer.evaluate()).rows;
      cb.onEval(0, rows);
      const { steps, evalEvery } = trainer.options;
      while (trainer.step < steps && !cb.stopRequested()) {
        // A macrotask turn between steps: onnxruntime-web's runs resolve as microtasks, and
        // without this the tab would neither repaint nor take the Stop click until the end.
        await new Promise((resolve) => setTimeout(resolve, 0));
        cb.onStep(await trainer.trainStep());
        const done = trainer.step === steps || cb.stopRequested();
        if (done || (evalEvery > 0 && trainer.step % evalEvery === 0)) {
          rows = (await trainer.evaluate()).rows;
          cb.onEval(trainer.step, rows);
        }
      }
      await trainer.syncModel(); // the engine's weights into the model: files and decoding use them
      return rows;
    } finally {
      await trainer.dispose();
      task.dispose();
    }
  }

  /** Held-out loss and bits/byte of each submodel (uniform widths or per-layer lists). */
  async evaluate(submodels: (number | Widths)[]): Promise<EvalRow[]> {
    const task = this.task();
    try {
      return await evaluateOnOrt(task, submodels);
    } finally {
      task.dispose();
    }
  }

  /** Parameters and forward FLOPs per token at full context of the model at `widths`. */
  cost(widths: Widths): { params: number; flops: number } {
    return { params: paramCount(this.config, widths), flops: flopsPerToken(this.config, widths) };
  }

  /**
   * The model at `widths`, exported in memory and served by onnxruntime as `lm-trainer generate`
   * serves it: the decoder graph (a KV buffer updated in place, fused attention) where the
   * model's head size allows, else the plain export.
   */
  async engine(widths: Widths): Promise<LMEngine> {
    if (!decoderUnsupported(this.config))
      return OnnxDecoderEngine.fromModel(this.model, { widths });
    return OnnxLMEngine.fromBytes(toOnnx(this.model, { widths }).bytes);
  }

  /** Plain decoding at `widths` (greedy when temperature is 0). */
  async generate(
    prompt: number[],
    widths: Widths,
    o: { maxNewTokens: number; temperature: number },
  ): Promise<Generation> {
    const engine = await this.engine(widths);
    try {
      const { tokens, stats } = await generate(engine, prompt, { ...o, window: 'slide' });
      return { tokens, tokensPerSecond: stats.tokensPerSecond, stats };
    } finally {
      engine.dispose();
    }
  }

  /** Speculative decoding: the submodel at `draftWidths` drafts k tokens, `widths` verifies. */
  async speculative(
    prompt: number[],
    widths: Widths,
    draftWidths: Widths,
    o: { maxNewTokens: number; temperature: number; k: number },
  ): Promise<Generation> {
    const [verifier, draft] = [await this.engine(widths), await this.engine(draftWidths)];
    try {
      const { tokens, stats } = await speculativeGenerate(draft, verifier, prompt, {
        ...o,
        window: 'slide',
      });
      return { tokens, tokensPerSecond: stats.tokensPerSecond, stats };
    } finally {
      verifier.dispose();
      draft.dispose();
    }
  }

  /** Logits [V] of the next byte after `prompt` at `widths`. */
  async nextLogits(prompt: number[], widths: Widths): Promise<Float32Array> {
    const engine = await this.engine(widths);
    try {
      const tail = prompt.slice(-engine.maxSeqLen);
      const { logits, state } = await engine.forward(tail);
      engine.release(state);
      return logits.slice(logits.length - engine.vocabSize);
    } finally {
      engine.dispose();
    }
  }

  /** The ONNX file `lm-trainer generate --onnx` serves: the model extracted at `widths`. */
  onnxBytes(widths: Widths): Uint8Array {
    return toOnnx(this.model, { widths }).bytes;
  }

  dispose(): void {
    this.model.dispose();
  }
}
