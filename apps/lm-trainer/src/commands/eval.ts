import type { Command } from 'commander';
import {
  evaluateOn,
  formatEvalTable,
  loadTextBytes,
  readRunConfig,
  type Submodel,
} from '@matformer/train';
import { engineOptions, int, widthsArg } from '../options';
import {
  defaultRunDir,
  engineFor,
  loadCorpus,
  makeTask,
  setupBackend,
  unigramBitsPerByte,
  type DataSpec,
} from '../run-setup';
import { loadRunModel } from '../load-run';

export function registerEval(program: Command): void {
  const cmd = program.command('eval');
  engineOptions().forEach((opt) => cmd.addOption(opt));
  cmd
    .description(
      "held-out loss and bits/byte of every granularity of a trained run, plus any Mix'n'Match widths",
    )
    .option('--run <dir>', 'run directory', defaultRunDir)
    .option(
      '--widths <list...>',
      'extra submodels: a width, or comma-separated per-layer widths (repeatable)',
    )
    .option(
      '--data <source>',
      "evaluate on this text instead of the run's held-out split: a .txt file or a folder of .txt/.md (all of it is held out)",
    )
    .option(
      '--eval-windows <n>',
      "held-out windows scored (default: the run's)",
      int('--eval-windows'),
    )
    .option('--backend <name>', 'tfjs backend: tensorflow, wasm or cpu')
    .action(async (o) => {
      const engine = await engineFor(o);
      await setupBackend(o.backend);
      const { dataSpec } = await readRunConfig<{ dataSpec: DataSpec }>(o.run);
      const [model, runCorpus] = await Promise.all([loadRunModel(o), loadCorpus(dataSpec)]);
      // Other text is held out whole; the unigram floor stays fitted on the run's training bytes.
      const corpus = o.data
        ? { ...runCorpus, name: o.data, val: await loadTextBytes(o.data) }
        : runCorpus;
      const spec = { ...dataSpec, evalWindows: o.evalWindows ?? dataSpec.evalWindows };
      const task = makeTask(model, corpus, spec);
      const submodels: Submodel[] = [
        ...model.config.granularities,
        ...((o.widths as string[] | undefined) ?? []).map(widthsArg),
      ];
      const rows = await evaluateOn(engine, task, submodels, {
        device: o.device,
      });
      process.stdout.write(
        `held out: ${corpus.name} (${corpus.val.length.toLocaleString('en-US')} bytes)\n\n${formatEvalTable({ rows }, 4)}\n\nunigram baseline: ${unigramBitsPerByte(corpus).toFixed(4)} bits/byte\n`,
      );
      task.dispose();
      model.dispose();
    });
}
