import type { MatViTConfig, Widths } from '../config';
import { storedWidths } from '../config';
import { ConfigError } from '../errors';
import { checkSignature, parseOnnxModel, readOnnxFile, type OnnxModelFile } from './read';
import { createSession, loadOrt, type Ort, type OrtOptions, type OrtSession } from './ort';
import { vitSignature } from '../models/matvit/graph';
import { configOf } from '../models/registry';

/** Outputs for a batch of B images, row-major. */
export interface ViTOutputs {
  /** [B, C]: the pooled representation after the final norm (MatViT.embed). */
  embedding: Float32Array;
  /** [B, K]: class logits (MatViT.forward). */
  logits: Float32Array;
}

/** An exported MatViT served by onnxruntime-node: embeddings for retrieval, logits for classes. */
export class OnnxViTEncoder {
  readonly widths: Widths;
  readonly name: string;
  /** Embedding width (C). */
  readonly dim: number;

  private constructor(
    private readonly ort: Ort,
    private readonly session: OrtSession,
    readonly config: MatViTConfig,
    executionProvider: string,
  ) {
    this.widths = storedWidths(config);
    this.dim = config.dModel;
    this.name = `onnxruntime-${executionProvider} [${this.widths.join(',')}]`;
  }

  /** Loads an .onnx file written by `exportOnnx` for a MatViT; a bad file throws CheckpointError. */
  static async load(path: string, opts: OrtOptions = {}): Promise<OnnxViTEncoder> {
    return OnnxViTEncoder.create(await readOnnxFile(path), path, opts);
  }

  static async fromBytes(
    bytes: Uint8Array,
    opts: OrtOptions = {},
    source = 'ONNX model',
  ): Promise<OnnxViTEncoder> {
    return OnnxViTEncoder.create(parseOnnxModel(bytes, source), source, opts);
  }

  private static async create(
    file: OnnxModelFile,
    source: string,
    opts: OrtOptions,
  ): Promise<OnnxViTEncoder> {
    const config = configOf(file.config, 'matvit', source);
    const { imageSize: S, channels: Ch, dModel: C, numClasses: K } = config;
    checkSignature(
      file,
      {
        inputs: [{ name: vitSignature.inputs[0], shape: ['batch', S, S, Ch] }],
        outputs: [
          { name: 'embedding', shape: ['batch', C] },
          { name: 'logits', shape: ['batch', K] },
        ],
      },
      source,
    );
    const session = await createSession(file.bytes, source, opts);
    return new OnnxViTEncoder(
      await loadOrt(),
      session,
      config,
      opts.executionProviders?.[0] ?? 'cpu',
    );
  }

  /** Embeddings and logits of `batch` images given as [batch, S, S, Ch] floats, row-major. */
  async run(pixels: Float32Array, batch: number): Promise<ViTOutputs> {
    const { imageSize: S, channels: Ch } = this.config;
    if (!Number.isInteger(batch) || batch <= 0) {
      throw new ConfigError(`batch must be a positive integer, got ${batch}`);
    }
    if (pixels.length !== batch * S * S * Ch) {
      throw new ConfigError(
        `pixels must hold batch × ${S} × ${S} × ${Ch} = ${batch * S * S * Ch} floats, got ${pixels.length}`,
      );
    }
    const input = new this.ort.Tensor('float32', pixels, [batch, S, S, Ch]);
    const out = await this.session.run({ pixel_values: input });
    return {
      embedding: out.embedding.data as Float32Array,
      logits: out.logits.data as Float32Array,
    };
  }

  /** Embeddings [batch, C] (see `run`). */
  async embed(pixels: Float32Array, batch: number): Promise<Float32Array> {
    return (await this.run(pixels, batch)).embedding;
  }

  /** Class logits [batch, K] (see `run`). */
  async logits(pixels: Float32Array, batch: number): Promise<Float32Array> {
    return (await this.run(pixels, batch)).logits;
  }

  dispose(): void {
    void this.session.release();
  }
}
