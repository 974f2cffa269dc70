import type { Command } from 'commander';
import { ProgressReporter, readRunConfig, resolveEngine, Trainer } from '@matformer/train';
import type { LanguageModel } from '@matformer/core';
import { engineOptions, int } from '../options';
import {
  defaultRunDir,
  loadCorpus,
  makeTask,
  setupBackend,
  unigramBitsPerByte,
  type DataSpec,
} from '../run-setup';
import { finishRun } from './train';
import { lockRun } from '../run-guard';

export function registerResume(program: Command): void {
  const cmd = program.command('resume');
  engineOptions().forEach((opt) => cmd.addOption(opt));
  cmd
    .description(
      'continue a run from its last checkpoint (same data order: the result equals an uninterrupted run)',
    )
    .option('--run <dir>', 'run directory', defaultRunDir)
    .option('--steps <n>', 'extend the run to this many total steps', int('--steps'))
    .option('--backend <name>', 'tfjs backend: tensorflow, wasm or cpu')
    .option('--no-sample', 'skip the generated samples at the end')
    .action(async (o) => {
      lockRun(o.run, 'resume');
      await setupBackend(o.backend);
      const { dataSpec } = await readRunConfig<{ dataSpec: DataSpec }>(o.run);
      const corpus = await loadCorpus(dataSpec);
      const trainer = await Trainer.resume(
        o.run,
        (model) => makeTask(model as LanguageModel, corpus, dataSpec),
        {
          reporter: new ProgressReporter(process.stderr, 25, false),
          steps: o.steps,
          engine: await resolveEngine(o.engine),
          device: o.device,
        },
      );
      process.stderr.write(
        `resuming ${o.run} at step ${trainer.step} of ${trainer.options.steps}\n`,
      );
      await finishRun(
        trainer,
        trainer.task.model as LanguageModel,
        unigramBitsPerByte(corpus),
        o.run,
        o.sample,
      );
      trainer.task.dispose();
      trainer.task.model.dispose();
    });
}
