import { Option, type Command } from 'commander';
import { createModel, familyOf, saveModel, type LanguageModel } from '@matformer/core';
import {
  defaultTrainOptions,
  ProgressReporter,
  runPath,
  Trainer,
  MOBY_DICK,
} from '@matformer/train';
import {
  engineOptions,
  float,
  granularitiesArg,
  granularitiesPerStep,
  int,
  intList,
} from '../options';
import { lmArchs, modelConfig } from '../model-shape';
import { printSamples, formatReport } from '../report';
import { lockRun, startClean } from '../run-guard';
import {
  defaultRunDir,
  engineFor,
  loadCorpus,
  makeTask,
  setupBackend,
  unigramBitsPerByte,
  type DataSpec,
} from '../run-setup';

export const DEFAULT_PROMPT = 'Call me Ishmael. ';

/** "matlm: tiny, mini, …; matgemma: …" for the help text. */
function archPresets(): string {
  return lmArchs.map((a) => `${a}: ${familyOf(a).presetNames.join(', ')}`).join('; ');
}

export function registerTrain(program: Command): void {
  const cmd = program.command('train');
  engineOptions().forEach((opt) => cmd.addOption(opt));
  cmd
    .description(
      'train a MatLM or MatGemma jointly at every granularity (defaults: the mini preset on Moby Dick, about 4 minutes on 2 cores)',
    )
    .option('--run <dir>', 'run directory (config, metrics.jsonl, checkpoints)', defaultRunDir)
    .option(
      '--arch <family>',
      'model family: matgemma (Gemma 3n / Llama block: RMSNorm, rotary positions, grouped-query attention, gated FFN) or matlm (GPT-2 block)',
      'matgemma',
    )
    .option(
      '--preset <name>',
      `model preset of the family: ${archPresets()} (--d-model etc. override it)`,
      'mini',
    )
    .option(
      '--config <file.json>',
      'config fields of the family overriding the preset (dModel, nLayers, …)',
    )
    .option('--d-model <n>', 'model width (overrides the preset)', int('--d-model'))
    .option('--layers <n>', 'transformer blocks', int('--layers'))
    .option('--heads <n>', 'attention heads (must divide --d-model)', int('--heads'))
    .option(
      '--kv-heads <n>',
      'key/value heads for grouped-query attention (matgemma; must divide --heads)',
      int('--kv-heads'),
    )
    .option(
      '--ffn-widths <list>',
      'nested FFN widths, ascending, the last = full width (default: dFF/8, dFF/4, dFF/2, dFF)',
      intList('--ffn-widths'),
    )
    .option(
      '--data <source>',
      `"${MOBY_DICK}" (shipped), a .txt file, or a folder of .txt/.md`,
      MOBY_DICK,
    )
    .option(
      '--val-fraction <f>',
      'held-out tail of the text',
      float('--val-fraction', 0.001, 0.5),
      0.05,
    )
    .option('--steps <n>', 'optimizer steps', int('--steps'), 1000)
    .option('--batch-size <n>', 'sequences per step', int('--batch-size'), 8)
    .option(
      '--seq-len <n>',
      "tokens (bytes) per sequence (default: the preset's maxSeqLen)",
      int('--seq-len'),
    )
    // Measured on the mini preset: 4e-3 beat 8e-3 (which stalls early) over 1,000 steps.
    .option('--lr <x>', 'peak learning rate (cosine decay to lr/10)', float('--lr', 1e-6, 1), 4e-3)
    .option('--warmup <n>', 'warmup steps', int('--warmup', 0), 40)
    .option(
      '--weight-decay <x>',
      'AdamW weight decay',
      float('--weight-decay', 0, 1),
      defaultTrainOptions.weightDecay,
    )
    .option(
      '--grad-clip <x>',
      'global gradient-norm clip (0 = off)',
      float('--grad-clip', 0),
      defaultTrainOptions.gradClip,
    )
    .option(
      '--granularities-per-step <all|k>',
      'granularities trained per step: all (the paper) or k sampled ones (default: all)',
      granularitiesArg('--granularities-per-step'),
    )
    .addOption(
      new Option('--granularities <all|k>', 'deprecated alias of --granularities-per-step')
        .argParser(granularitiesArg('--granularities'))
        .hideHelp(),
    )
    .option(
      '--baseline <width>',
      'train a plain (non-nested) model with every FFN at this width instead',
      int('--baseline'),
    )
    .option(
      '--eval-every <n>',
      'evaluate every n steps (0 = only at the end)',
      int('--eval-every', 0),
      250,
    )
    .option('--eval-windows <n>', 'held-out windows per evaluation', int('--eval-windows'), 64)
    .option(
      '--checkpoint-every <n>',
      'save a resumable checkpoint every n steps',
      int('--checkpoint-every', 0),
      250,
    )
    .option('--seed <n>', 'seed for init, data order and granularity sampling', int('--seed', 0), 0)
    .option(
      '--backend <name>',
      'tfjs backend: tensorflow, wasm or cpu (default: fastest available)',
    )
    .option('--force', 'overwrite an existing run directory')
    .option('--no-sample', 'skip the generated samples at the end')
    .action(async (o) => {
      // One trainer per run directory, and a new run never inherits an old run's files.
      lockRun(o.run, 'train');
      const engine = await engineFor(o); // --device cuda without CUDA fails here, before anything
      await startClean(o.run, Boolean(o.force));
      const backend = await setupBackend(o.backend);
      const config = await modelConfig({ ...o, seqLen: o.seqLen });
      const spec: DataSpec = {
        source: o.data,
        valFraction: o.valFraction,
        batchSize: o.batchSize,
        seqLen: o.seqLen ?? config.maxSeqLen,
        evalWindows: o.evalWindows,
      };
      const corpus = await loadCorpus(spec);
      const model = createModel(config, undefined, o.seed) as LanguageModel;
      const task = makeTask(model, corpus, spec);
      process.stderr.write(
        `engine: ${engine}${engine === 'ort' ? ` (onnxruntime-node, ${o.device})` : ''}\ntraining ${o.baseline ? `baseline (width ${o.baseline}) ` : ''}${model.family.name} "${o.preset}" (d ${config.dModel}, ${config.nLayers} layers, ${config.nHeads} heads${'nKvHeads' in config ? ` sharing ${config.nKvHeads} kv heads` : ''}, context ${config.maxSeqLen}; ${model.storedParamCount.toLocaleString('en-US')} params, granularities ${config.granularities.join('/')}) on ${corpus.name}: ${corpus.train.length.toLocaleString('en-US')} training bytes, ${corpus.val.length.toLocaleString('en-US')} held out\n`,
      );
      const trainer = new Trainer(
        task,
        {
          steps: o.steps,
          lr: o.lr,
          warmupSteps: o.warmup,
          weightDecay: o.weightDecay,
          gradClip: o.gradClip,
          granularitiesPerStep: granularitiesPerStep(o),
          evalEvery: o.evalEvery,
          checkpointEvery: o.checkpointEvery,
          seed: o.seed,
        },
        {
          runDir: o.run,
          reporter: new ProgressReporter(process.stderr, 25, false),
          meta: { backend, dataSpec: spec },
          engine,
          device: o.device,
        },
      );
      await finishRun(trainer, model, unigramBitsPerByte(corpus), o.run, o.sample);
      task.dispose();
    });
}

/** Runs to the end, saves the weights-only model, prints the table and samples. */
export async function finishRun(
  trainer: Trainer,
  model: LanguageModel,
  unigramBits: number,
  runDir: string,
  sample: boolean,
): Promise<void> {
  const t0 = performance.now();
  await trainer.prepare(); // an engine that cannot build the model fails here, before step 1
  const result = await trainer.run();
  await saveModel(runPath(runDir, 'model'), model);
  process.stdout.write(
    `\ntrained ${trainer.step} steps in ${((performance.now() - t0) / 1000).toFixed(0)} s; weights in ${runPath(runDir, 'model')}\n\n`,
  );
  process.stdout.write(formatReport(result, unigramBits) + '\n');
  if (sample) await printSamples(model, DEFAULT_PROMPT);
  await trainer.dispose();
}
