import { InvalidArgumentError, Option } from 'commander';

// Number() reads "0x10" as 16, "" and " " as 0 and "1e3" as 1000: flags take plain decimals only.
const DECIMAL_INT = /^\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** commander parsers that name the flag and the allowed values on bad input. */
export function int(flag: string, min = 1) {
  return (v: string): number => {
    const n = DECIMAL_INT.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`${flag} must be an integer ≥ ${min}, got "${v}"`);
    return n;
  };
}

export function float(flag: string, min = 0, max = Infinity) {
  return (v: string): number => {
    const n = DECIMAL.test(v) ? Number(v) : NaN;
    if (!Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`${flag} must be a number in [${min}, ${max}], got "${v}"`);
    return n;
  };
}

/**
 * "128" → 128 (uniform), "128,256,512,1024" → per-layer widths (0 = layer skipped, written
 * out: an empty item is a typo, not a skipped layer).
 */
export function widthsArgFor(flag: string) {
  return (v: string): number | number[] => {
    const items = v.split(',').map((s) => s.trim());
    const bad = items.findIndex((s) => !DECIMAL_INT.test(s));
    if (bad >= 0)
      throw new InvalidArgumentError(
        `${flag} must be one width or a comma list of per-layer widths (decimal integers, 0 = skip the layer), got "${v}"${items.length > 1 ? ` (item ${bad + 1} is ${items[bad] ? `"${items[bad]}"` : 'empty'})` : ''}`,
      );
    const widths = items.map(Number);
    return widths.length === 1 ? widths[0] : widths;
  };
}

export const widthsArg = widthsArgFor('--widths');

/** Parses `all` or a positive k for the flag named `flag` (how many granularities train per step). */
export function granularitiesArg(flag: string): (v: string) => 'all' | number {
  return (v) => (v === 'all' ? 'all' : int(flag)(v));
}

/**
 * How many granularities train per step, from `--granularities-per-step` or its deprecated
 * alias `--granularities` (which names the nested widths elsewhere; a note says so on stderr).
 */
export function granularitiesPerStep(o: {
  granularitiesPerStep?: 'all' | number;
  granularities?: 'all' | number;
}): 'all' | number {
  if (o.granularities !== undefined && o.granularitiesPerStep === undefined)
    process.stderr.write(
      'note: --granularities is deprecated (granularities are the nested widths); use --granularities-per-step\n',
    );
  return o.granularitiesPerStep ?? o.granularities ?? 'all';
}

/** `--engine` and `--device`: where training and evaluation run (shared by train, resume, eval). */
export function engineOptions(): Option[] {
  return [
    new Option(
      '--engine <name>',
      'compute engine: ort (onnxruntime-node, ~10× faster on CPU), tfjs (the reference), auto = ort where installed',
    )
      .choices(['auto', 'ort', 'tfjs'])
      .default('auto'),
    new Option('--device <name>', 'onnxruntime execution provider (engine ort)')
      .choices(['cpu', 'cuda'])
      .default('cpu'),
  ];
}

/** "128,256,512" → [128, 256, 512]: positive decimal integers; the flag named on bad input. */
export function intList(flag: string) {
  return (v: string): number[] => {
    const items = v.split(',').map((s) => s.trim());
    const bad = items.findIndex((s) => !DECIMAL_INT.test(s) || Number(s) < 1);
    if (bad >= 0)
      throw new InvalidArgumentError(
        `${flag} must be a comma list of positive integers, got "${v}" (item ${bad + 1} is ${items[bad] ? `"${items[bad]}"` : 'empty'})`,
      );
    return items.map(Number);
  };
}
