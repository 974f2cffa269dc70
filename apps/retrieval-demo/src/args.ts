import { InvalidArgumentError } from 'commander';

// Number() reads "0x10" as 16, "" as 0 and "1e3" as 1000: flags take plain decimals only.
const DECIMAL_INT = /^\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** commander parser: a decimal integer ≥ min; the error names the flag. */
export const int =
  (name: string, min = 1) =>
  (v: string): number => {
    const n = DECIMAL_INT.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got "${v}"`);
    return n;
  };

/** commander parser: a positive decimal number; the error names the flag. */
export const positive =
  (name: string) =>
  (v: string): number => {
    const n = DECIMAL.test(v) ? Number(v) : NaN;
    if (!(n > 0 && Number.isFinite(n)))
      throw new InvalidArgumentError(`${name} must be a positive number, got "${v}"`);
    return n;
  };
