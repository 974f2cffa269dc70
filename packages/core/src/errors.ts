/** Base class of every error this library throws on bad input, so callers can catch ours alone. */
export class MatformerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A model config or Mix'n'Match widths list that does not describe a valid model. */
export class ConfigError extends MatformerError {}

/** A checkpoint file that is missing, truncated, corrupt, or does not fit the model. */
export class CheckpointError extends MatformerError {}

/**
 * Checks an option that takes one of a fixed set of values; throws ConfigError naming the option
 * and the allowed values, e.g. `engine must be one of "ort", "tfjs", got "foo"`. `undefined`
 * passes when the option is optional (pass `optional: true`); returns the value, typed.
 */
export function checkChoice<T extends string>(
  option: string,
  value: unknown,
  allowed: readonly T[],
  optional?: false,
): T;
export function checkChoice<T extends string>(
  option: string,
  value: unknown,
  allowed: readonly T[],
  optional: true,
): T | undefined;
export function checkChoice<T extends string>(
  option: string,
  value: unknown,
  allowed: readonly T[],
  optional = false,
): T | undefined {
  if (value === undefined && optional) return undefined;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value))
    return value as T;
  throw new ConfigError(
    `${option} must be ${allowed.length === 1 ? '' : 'one of '}${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${value === undefined ? 'undefined' : JSON.stringify(value)}`,
  );
}

/**
 * Checks a thread count (onnxruntime intra-op threads and the like): an integer from 1 to
 * `max`, the cores this process may use (os.availableParallelism()). More threads than cores
 * only slow onnxruntime down, and a huge count aborts the process inside onnxruntime.
 * `undefined` passes (the default applies). Throws ConfigError naming the option.
 */
export function checkThreads(option: string, value: unknown, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max)
    throw new ConfigError(
      `${option} must be an integer from 1 to ${max} (the cores this process may use), got ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`,
    );
  return value;
}
