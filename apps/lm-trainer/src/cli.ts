import { Command } from 'commander';
import { MatformerError } from '@matformer/core';
import { registerEval } from './commands/eval';
import { registerExport } from './commands/export';
import { registerGenerate } from './commands/generate';
import { addExportHFFlags, registerSliceHF } from './commands/hf';
import { registerResume } from './commands/resume';
import { registerSearch } from './commands/search';
import { registerTrain } from './commands/train';

const program = new Command()
  .name('lm-trainer')
  .description(
    'Train a MatLM (nested MatFormer language model), evaluate every granularity, generate, export',
  );
// A bad value gets one line naming the flag (commander's error); --help still prints the usage.

registerTrain(program);
registerResume(program);
registerEval(program);
registerGenerate(program);
registerExport(program);
addExportHFFlags(program);
registerSearch(program);
registerSliceHF(program);

// With no command, run the main job: train the default model.
if (process.argv.length <= 2) process.argv.push('train');

program.parseAsync().catch((e: Error) => {
  // Our errors name the bad input; a stack adds nothing for them.
  const known =
    e instanceof MatformerError || e.name === 'ConfigError' || e.name === 'CheckpointError';
  process.stderr.write(`\nerror: ${known || !process.env.DEBUG ? e.message : e.stack}\n`);
  process.exit(1);
});
