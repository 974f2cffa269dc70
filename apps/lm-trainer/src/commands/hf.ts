import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import {
  ConfigError,
  extract,
  readHFConfig,
  hfDTypes,
  isHFDirectory,
  saveHFModel,
  sliceHFDirectory,
  type AnyModel,
  type HFDType,
  type IntermediateSizeMode,
  type Widths,
} from '@matformer/core';
import { widthsFromSliceArgs } from '@matformer/mixnmatch';
import { hfDirOf, loadExportModel } from '../load-run';
import { int, widthsArg } from '../options';
import { setupBackend } from '../run-setup';

/** Options `export --format hf` and `slice-hf` share. */
export interface HFOutOptions {
  dtype: HFDType;
  intermediateSize: IntermediateSizeMode;
  maxShardMb?: number;
}

export function dtypeArg(v: string): HFDType {
  const d = v.toUpperCase() as HFDType;
  if (!hfDTypes.includes(d))
    throw new InvalidArgumentError(`--dtype must be one of ${hfDTypes.join(', ')}, got "${v}"`);
  return d;
}

export function intermediateSizeArg(v: string): IntermediateSizeMode {
  if (v !== 'list' && v !== 'padded')
    throw new InvalidArgumentError(`--intermediate-size must be list or padded, got "${v}"`);
  return v;
}

/** Adds the flags of `export --format hf` to the export command (registered by export.ts). */
export function addExportHFFlags(program: Command): void {
  const cmd = program.commands.find((c) => c.name() === 'export');
  if (!cmd) throw new Error('register the export command before its hf flags');
  cmd
    .option('--dtype <dtype>', `hf: stored dtype, ${hfDTypes.join(', ')}`, dtypeArg, 'F32')
    .option(
      '--intermediate-size <mode>',
      'hf: per-layer widths as a list (Gemma 3n, mistral.rs) or zero-padded to the widest (loads in stock transformers)',
      intermediateSizeArg,
      'list',
    )
    .option(
      '--max-shard-mb <n>',
      'hf: shard the weights above this many MiB',
      int('--max-shard-mb'),
    );
}

const shardBytes = (o: HFOutOptions) => (o.maxShardMb ? o.maxShardMb * 2 ** 20 : undefined);

/**
 * Widths per layer from --widths (one number = every layer) or --slices/--slice (a Gemma 3n
 * style slice file). With `config` they must be granularities; without (slicing an HF
 * directory) any width up to what a layer stores is fine, checked by the slicer.
 */
async function widthsOf(
  o: { widths?: number | number[]; slices?: string; slice?: string },
  nLayers: number,
  config?: AnyModel['config'],
): Promise<Widths | undefined> {
  const w = (await widthsFromSliceArgs(o, config)) ?? o.widths;
  return typeof w === 'number' ? Array(nLayers).fill(w) : w;
}

/**
 * `lm-trainer export --format hf`: the model (a MatGemma), or its submodel at --widths, as a
 * Hugging Face directory. From an HF directory with widths (and no --dtype or
 * --intermediate-size), the slice streams tensor by tensor.
 */
export async function exportHF(
  o: HFOutOptions & {
    run?: string;
    checkpoint?: string;
    out: string;
    backend?: string;
    widths?: number | number[];
    slices?: string;
    slice?: string;
    format: string;
  },
  cmd: Command,
): Promise<void> {
  if (o.format !== 'hf')
    throw new InvalidArgumentError(`--format must be onnx or hf, got "${o.format}"`);
  if (cmd.getOptionValueSource('out') === 'default') o.out = 'model-hf'; // not model.onnx
  const hf = hfDirOf(o);
  // The streamed slice keeps the source's dtypes and writes lists; asking for others converts in memory.
  const streamable = ['dtype', 'intermediateSize'].every(
    (k) => cmd.getOptionValueSource(k) === 'default',
  );
  if (hf && streamable) {
    const { config } = await readHFConfig(hf);
    const widths = await widthsOf(o, config.nLayers);
    if (widths) {
      const out = await sliceHFDirectory(hf, o.out, widths, {
        maxShardBytes: shardBytes(o),
      });
      process.stdout.write(
        `wrote ${o.out} (streamed slice): ${out.nLayers} layers, widths [${out.layerDFF!.join(', ')}], source layers [${out.sourceLayers?.join(', ') ?? ''}]\n`,
      );
      return;
    }
  }
  await setupBackend(o.backend, true);
  const model = await loadExportModel(o);
  try {
    const widths = await widthsOf(o, model.config.nLayers, model.config);
    const sub = widths ? extract(model, widths) : model;
    try {
      await saveHFModel(o.out, sub, {
        dtype: o.dtype,
        intermediateSize: o.intermediateSize,
        maxShardBytes: shardBytes(o),
      });
    } finally {
      if (sub !== model) sub.dispose();
    }
    process.stdout.write(
      `wrote ${o.out}: Hugging Face directory (${o.dtype}, intermediate_size ${o.intermediateSize})${widths ? `, widths [${widths.join(', ')}]` : ''}\n`,
    );
  } finally {
    model.dispose();
  }
}

/** `lm-trainer slice-hf SRC --out DIR --widths …`: streams a Mix'n'Match slice of an HF directory. */
export function registerSliceHF(program: Command): void {
  program
    .command('slice-hf')
    .description(
      "slice a Hugging Face directory to per-layer FFN widths, tensor by tensor (gate/up first w rows, down first w columns; width 0 drops the layer), as Google's MatFormer Lab does for Gemma 3n",
    )
    .argument('<src>', 'the Hugging Face directory to slice (config.json + safetensors)')
    .requiredOption('--out <dir>', 'the directory to write')
    .option(
      '--widths <widths>',
      'one width for every layer, or comma-separated per-layer widths (0 = skip)',
      widthsArg,
    )
    .option('--slices <file>', 'a slice file (CSV or JSON, Gemma 3n format); use with --slice')
    .option('--slice <name>', 'the named slice of --slices')
    .option('--max-shard-mb <n>', 'shard the output above this many MiB', int('--max-shard-mb'))
    .action(async (src: string, o) => {
      if (!isHFDirectory(src))
        throw new ConfigError(
          `${src} is not a Hugging Face directory (config.json + model.safetensors or an index)`,
        );
      const { config } = await readHFConfig(src);
      const widths = await widthsOf(o, config.nLayers);
      if (!widths) throw new ConfigError('slice-hf needs --widths, or --slices FILE --slice NAME');
      const t0 = performance.now();
      const out = await sliceHFDirectory(src, o.out, widths, {
        maxShardBytes: o.maxShardMb ? o.maxShardMb * 2 ** 20 : undefined,
      });
      process.stdout.write(
        `wrote ${o.out}: ${out.nLayers} layers, widths [${out.layerDFF!.join(', ')}] in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
      );
    });
}
