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
