import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { familyOf, forwardFlops, paramCount } from '@matformer/core';
import { exportOnnx, supportedOpsets, type Opset } from '@matformer/core/onnx';
import { widthsFromSliceArgs } from '@matformer/mixnmatch';
import { widthsArg } from '../options';
import { defaultRunDir, setupBackend } from '../run-setup';
import { loadExportModel } from '../load-run';
import { checkOutFile } from '../out-path';
import { exportHF } from './hf';

function opsetArg(v: string): Opset {
  const n = Number(v) as Opset;
  if (!supportedOpsets.includes(n)) {
    throw new InvalidArgumentError(
      `--opset must be one of ${supportedOpsets.join(', ')}, got "${v}"`,
    );
  }
  return n;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** `lm-trainer export`: a trained model (or a Mix'n'Match submodel of it) as an .onnx file. */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description(
      'extract a submodel at the given FFN widths and write it as ONNX (served by onnxruntime: @matformer/core/onnx)',
    )
    .option('--run <dir>', 'run directory holding the trained model', defaultRunDir)
    .option('--checkpoint <file>', 'a model .safetensors file instead of a run directory')
    .option(
      '--widths <widths>',
      'one width for every layer, or comma-separated per-layer widths (default: the full model)',
      widthsArg,
    )
    .option(
      '--slices <file>',
      'a slice file (CSV or JSON, e.g. written by "lm-trainer search"); use with --slice',
    )
    .option('--slice <name>', 'the named slice of --slices to export')
    .option('--out <file>', 'the .onnx file to write', 'model.onnx')
    .option('--opset <n>', `ONNX opset: ${supportedOpsets.join(' or ')}`, opsetArg, 17)
    .option('--backend <name>', 'tfjs backend used to read the weights: tensorflow, wasm or cpu')
    .option(
      '--format <format>',
      'onnx (a file), or hf: a Hugging Face directory (MatGemma)',
      'onnx',
    )
    .action(async (o, cmd: Command) => {
      if (o.format !== 'onnx') return exportHF(o, cmd); // --format hf: a directory
      checkOutFile('--out', o.out);
      await setupBackend(o.backend, true);
      const model = await loadExportModel(o);
      try {
        const widths = (await widthsFromSliceArgs(o, model.config)) ?? o.widths;
        const info = await exportOnnx(model, o.out, { widths, opset: o.opset });
        const full = model.config;
        const lines = [
          `wrote ${o.out}: ${mb(info.bytes)}, opset ${info.opset}`,
          `widths [${info.widths.join(', ')}]`,
          `params ${info.params.toLocaleString('en-US')} (${pct(paramCount(full, info.widths) / paramCount(full))} of the full model's ${paramCount(full).toLocaleString('en-US')})`,
        ];
        const family = familyOf(full);
        const ratio = forwardFlops(full, info.widths) / forwardFlops(full);
        lines.push(
          `FLOPs/${family.unit} ${pct(ratio)} of the full model (at context ${family.context(full)})`,
        );
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        model.dispose();
      }
    });
}
