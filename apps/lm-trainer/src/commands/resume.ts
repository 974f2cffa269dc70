import type { Command } from 'commander';
import { ProgressReporter, readRunConfig, Trainer } from '@matformer/train';
import { ConfigError, type LanguageModel } from '@matformer/core';
import { engineOptions, int } from '../options';
import {
  defaultRunDir,
  engineFor,
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
      'continue an interrupted run from its last checkpoint (same data order and schedule: the result equals an uninterrupted run); --steps extends a run',
    )
    .option('--run <dir>', 'run directory', defaultRunDir)
    .option(
      '--steps <n>',
      "end the run at this many total steps, more than its checkpoint's; the learning-rate schedule stays the original run's, so steps past its end train at the rate it ended with: NOT the same as an uninterrupted run of n steps (for that, train a new run with --steps n)",
      int('--steps'),
    )
    .option('--backend <name>', 'tfjs backend: tensorflow, wasm or cpu')
    .option('--no-sample', 'skip the generated samples at the end')
    .action(async (o) => {
      lockRun(o.run, 'resume');
      const engine = await engineFor(o);
      await setupBackend(o.backend);
      const { dataSpec } = await readRunConfig<{ dataSpec: DataSpec }>(o.run);
      const corpus = await loadCorpus(dataSpec);
      const trainer = await Trainer.resume(
        o.run,
        (model) => makeTask(model as LanguageModel, corpus, dataSpec),
        {
          reporter: new ProgressReporter(process.stderr, 25, false),
          steps: o.steps,
          engine,
          device: o.device,
        },
      );
      if (trainer.step >= trainer.options.steps) {
        trainer.task.dispose();
        trainer.task.model.dispose();
        await trainer.dispose();
        throw new ConfigError(
          `${o.run} is complete (step ${trainer.step} of ${trainer.options.steps}): nothing to train; extend it with --steps N (N > ${trainer.step})`,
        );
      }
      const { scheduleSteps = trainer.options.steps, steps } = trainer.options;
      process.stderr.write(
        `resuming ${o.run} at step ${trainer.step} of ${steps}${steps > scheduleSteps ? ` (the learning-rate schedule ends at step ${scheduleSteps}, as the original run's; the steps after it train at its final rate ${trainer.lrAt(scheduleSteps - 1).toExponential(2)})` : ''}\n`,
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
