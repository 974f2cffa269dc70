import type { Command } from 'commander';
import {
  ConfigError,
  TfjsLMEngine,
  type LMEngine,
  type LanguageModel,
  type Widths,
} from '@matformer/core';
import { checkPrompt, generate, speculativeGenerate } from '@matformer/speculative';
import { cachedCalibration, describeCalibration } from '../speculative-choice';
import { widthsFromSliceArgs } from '@matformer/mixnmatch';
import { decodeBytes, encodeBytes, resolveEngine } from '@matformer/train';
import { engineOptions, float, int, widthsArg, widthsArgFor } from '../options';
import { defaultRunDir, setupBackend } from '../run-setup';
import { loadRunModel, modelFileOf } from '../load-run';
import { DEFAULT_PROMPT } from './train';

export function registerGenerate(program: Command): void {
  const cmd = program.command('generate');
  engineOptions().forEach((opt) => cmd.addOption(opt));
  cmd
    .description(
      'continue a prompt with a trained model at any widths, plainly or with speculative decoding (a smaller submodel drafts)',
    )
    .option('--run <dir>', 'run directory', defaultRunDir)
    .option('--checkpoint <file>', 'a .safetensors model instead of a run directory')
    .option(
      '--widths <w>',
      'verifier / model widths: one width or comma-separated per-layer widths (default: full)',
      widthsArg,
    )
    .option(
      '--slices <file>',
      'a slice file (CSV or JSON, e.g. written by "lm-trainer search"); use with --slice',
    )
    .option('--slice <name>', 'the named slice of --slices whose widths the model runs at')
    .option('--prompt <text>', 'text to continue', DEFAULT_PROMPT)
    .option(
      '--max-tokens <n>',
      "new tokens (bytes); past the model's context the window slides (the last half is kept)",
      int('--max-tokens'),
      200,
    )
    .option('--temperature <t>', '0 = greedy', float('--temperature', 0, 10), 0.8)
    .option('--top-k <k>', 'sample among the k most likely tokens', int('--top-k'))
    .option('--top-p <p>', 'nucleus sampling mass', float('--top-p', 0, 1))
    .option('--seed <n>', 'sampling seed', int('--seed', 0), 0)
    .option('--speculative', 'speculative decoding: --draft-widths drafts, the model verifies')
    .option(
      '--draft-widths <w>',
      'draft submodel widths (default: picked by a calibration of step costs and acceptance, cached beside the model)',
      widthsArgFor('--draft-widths'),
    )
    .option('--k <n>', 'initial draft length (default: picked by the calibration)', int('--k'))
    .option('--no-adaptive', 'keep the draft length fixed')
    .option(
      '--onnx <file>',
      'run the model (the verifier, with --speculative) from an exported .onnx file on onnxruntime-node',
    )
    .option('--draft-onnx <file>', 'with --speculative: run the draft from an exported .onnx file')
    .option('--backend <name>', 'tfjs backend: tensorflow, wasm or cpu')
    .action(async (o) => {
      await setupBackend(o.backend);
      const model = await loadRunModel(o);
      o.widths = (await widthsFromSliceArgs(o, model.config)) ?? o.widths;
      const prompt = Array.from(encodeBytes(o.prompt));
      const engine = await resolveEngine(o.engine);
      const run = (widths?: number | Widths, int8 = false): Promise<LMEngine> | LMEngine =>
        engine === 'ort'
          ? inMemoryOnnx(model, widths, o.device, int8)
          : new TfjsLMEngine(model, widths);
      const verifier = o.onnx ? await onnxEngine(o.onnx) : await run(o.widths);
      const sampling = {
        maxNewTokens: o.maxTokens,
        temperature: o.temperature,
        topK: o.topK,
        topP: o.topP,
        seed: o.seed,
        window: 'slide' as const, // go on past the context with the most recent tokens, as nanoGPT does
      };
      const speculative = Boolean(o.speculative);
      let k: number = o.k ?? 4;
      let draft: LMEngine | undefined;
      if (speculative && o.draftOnnx) draft = await onnxEngine(o.draftOnnx);
      else if (speculative) {
        // Calibrate (cached per model): each candidate draft's step cost and acceptance, the
        // verifier's cost of verifying k + 1 tokens; pick what is not given, or warn.
        const g = model.config.granularities;
        const candidates: (number | Widths)[] =
          o.draftWidths !== undefined ? [o.draftWidths] : g.slice(0, -1);
        const drafts: { label: string; engine: LMEngine }[] = [];
        for (const w of candidates) drafts.push({ label: String(w), engine: await run(w) });
        // On onnxruntime's CPU decoder graph, int8-weight drafts too: a quarter of the bytes per
        // step (the float verifier keeps the output exact).
        if (engine === 'ort' && o.device === 'cpu')
          for (const w of candidates) {
            const e = await run(w, true);
            if (e.name.includes('int8')) drafts.push({ label: `${w} int8`, engine: e });
            else e.dispose();
          }
        const cal = await cachedCalibration(
          o.onnx ? undefined : modelFileOf(o),
          verifier,
          drafts,
          { temperature: o.temperature, topK: o.topK, topP: o.topP, seed: o.seed },
          (line) => process.stderr.write(`${line}\n`),
        );
        describeCalibration(cal).forEach((l) => process.stderr.write(`${l}\n`));
        // Given widths, or the calibration's choice, or (when nothing pays) the best of the rest.
        const pick =
          o.draftWidths !== undefined
            ? cal.drafts[0]
            : (cal.drafts.find((d) => d.label === cal.choice?.label) ??
              [...cal.drafts].sort((a, b) => b.speedup - a.speedup)[0]);
        if (o.k === undefined && pick) k = pick.k;
        const predicted = pick?.speedup ?? 0;
        if (!cal.choice)
          process.stderr.write(
            `warning: speculative decoding would not pay here (best predicted ${predicted.toFixed(2)}× plain decoding, draft ${pick?.label}, k ${k}): plain decoding (without --speculative) is faster\n`,
          );
        const label = pick?.label ?? cal.drafts[0].label;
        process.stderr.write(`speculative: draft widths ${label}, k ${k}\n`);
        draft = drafts.find((d) => d.label === label)!.engine;
        for (const d of drafts) if (d.engine !== draft) d.engine.dispose();
      }
      // A bad prompt fails before anything reaches stdout (a pipe must not get half an answer).
      for (const engine of [verifier, ...(draft ? [draft] : [])]) {
        try {
          checkPrompt(engine, prompt, o.maxTokens, true);
        } catch (e) {
          throw new ConfigError(`--prompt: ${(e as Error).message}`);
        }
      }
      const context = Math.min(verifier.maxSeqLen, draft?.maxSeqLen ?? Infinity);
      if (prompt.length > context)
        process.stderr.write(
          `note: the prompt is ${prompt.length} bytes, longer than the model's context of ${context}: it sees only the last ${context}\n`,
        );
      process.stdout.write(o.prompt);
      if (!speculative) {
        const { tokens, stats } = await generate(verifier, prompt, sampling);
        process.stdout.write(
          `${decodeBytes(tokens)}\n\n[${verifier.name}] ${stats.newTokens} tokens in ${stats.ms.toFixed(0)} ms (${stats.tokensPerSecond.toFixed(1)} tokens/s)\n`,
        );
      } else {
        const { tokens, stats } = await speculativeGenerate(draft!, verifier, prompt, {
          ...sampling,
          k,
          adaptive: o.adaptive,
        });
        process.stdout.write(`${decodeBytes(tokens)}\n\n`);
        process.stdout.write(
          `[draft ${draft!.name} → verifier ${verifier.name}] ${tokens.length} tokens in ${stats.ms.toFixed(0)} ms (${stats.tokensPerSecond.toFixed(1)} tokens/s)\n`,
        );
        process.stdout.write(
          `acceptance ${(100 * stats.acceptanceRate).toFixed(1)}%, ${stats.tokensPerVerifierCall.toFixed(2)} tokens per verifier call, ${stats.verifierCalls} verifier calls, ${stats.draftCalls} draft calls\n`,
        );
      }
      verifier.dispose();
      draft?.dispose();
      model.dispose();
    });
}

/**
 * The model (at `widths`) exported in memory and served by onnxruntime-node: on the CPU the
 * decoder graph (in-place KV buffer, fused attention; small cost per call) where its head size
 * allows, else the plain-op export.
 */
async function inMemoryOnnx(
  model: LanguageModel,
  widths: number | Widths | undefined,
  device: 'cpu' | 'cuda',
  int8 = false,
): Promise<LMEngine> {
  const onnx = await import('@matformer/core/onnx');
  const executionProviders = device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'];
  // GroupQueryAttention's CUDA kernel is fp16-only: the float32 decoder graph is for the CPU.
  if (device === 'cpu' && !onnx.decoderUnsupported(model.config))
    return onnx.OnnxDecoderEngine.fromModel(model, {
      widths,
      executionProviders,
      quantize: int8 ? 'int8' : undefined,
    });
  const bytes = onnx.toOnnx(model, widths === undefined ? {} : { widths }).bytes;
  return onnx.OnnxLMEngine.fromBytes(bytes, { executionProviders });
}

/** onnxruntime is optional: loaded only when asked for. Reads a decoder file or a plain export. */
async function onnxEngine(file: string): Promise<LMEngine> {
  const { OnnxLMEngine, OnnxDecoderEngine, readOnnxFile, isDecoderFile } =
    await import('@matformer/core/onnx');
  const parsed = await readOnnxFile(file);
  return isDecoderFile(parsed.bytes)
    ? OnnxDecoderEngine.fromBytes(parsed.bytes, {}, file)
    : OnnxLMEngine.load(file);
}
