import type { Command } from 'commander';
import {
  evaluateOnOrt,
  evaluateTask,
  formatEvalTable,
  readRunConfig,
  resolveEngine,
  type Submodel,
} from '@matformer/train';
import { engineOptions, widthsArg } from '../options';
import {
  defaultRunDir,
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
    .option('--backend <name>', 'tfjs backend: tensorflow, wasm or cpu')
    .action(async (o) => {
      await setupBackend(o.backend);
      const { dataSpec } = await readRunConfig<{ dataSpec: DataSpec }>(o.run);
      const [model, corpus] = await Promise.all([loadRunModel(o), loadCorpus(dataSpec)]);
      const task = makeTask(model, corpus, dataSpec);
      const submodels: Submodel[] = [
        ...model.config.granularities,
        ...((o.widths as string[] | undefined) ?? []).map(widthsArg),
      ];
      const rows =
        (await resolveEngine(o.engine)) === 'ort'
          ? await evaluateOnOrt(task, submodels, { device: o.device })
          : evaluateTask(task, submodels);
      process.stdout.write(
        `${formatEvalTable({ rows })}\n\nunigram baseline: ${unigramBitsPerByte(corpus).toFixed(3)} bits/byte\n`,
      );
      task.dispose();
      model.dispose();
    });
}
