import { InvalidArgumentError } from 'commander';

/** commander parsers that name the flag and the allowed values on bad input. */
export function int(flag: string, min = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${flag} must be an integer ≥ ${min}, got "${v}"`);
    return n;
  };
}

export function float(flag: string, min = 0, max = Infinity) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`${flag} must be a number in [${min}, ${max}], got "${v}"`);
    return n;
  };
}

/** "128" → 128 (uniform), "128,256,512,1024" → per-layer widths (0 = layer skipped). */
export function widthsArg(v: string): number | number[] {
  const parts = v.split(',').map((s) => Number(s.trim()));
  if (parts.some((n) => !Number.isInteger(n) || n < 0))
    throw new InvalidArgumentError(
      `widths must be one width or a comma list of per-layer widths, got "${v}"`,
    );
  return parts.length === 1 ? parts[0] : parts;
}

export function granularitiesArg(v: string): 'all' | number {
  if (v === 'all') return 'all';
  return int('--granularities')(v);
}
