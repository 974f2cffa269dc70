import { toOnnx } from '@matformer/core/onnx';
import { pickEncoder } from '@matformer/retrieval';
import type { DemoState } from './query';

/**
 * The query encoders as ONNX files for the page's in-browser runtime: each one extracted at its
 * widths and exported (opset 17, the widest runtime support) the first time it is asked for,
 * then kept: a few hundred KB each for the demo's models.
 */
export class EncoderModels {
  private readonly cache = new Map<string, Uint8Array>();

  constructor(private readonly state: DemoState) {}

  /** The encoder's .onnx bytes; an unknown name throws RetrievalError (a 400). */
  onnx(name: string): { name: string; bytes: Uint8Array } {
    const e = pickEncoder(this.state.encoders, name);
    let bytes = this.cache.get(e.name);
    if (!bytes) {
      bytes = toOnnx(this.state.model, { widths: e.widths, opset: 17 }).bytes;
      this.cache.set(e.name, bytes);
    }
    return { name: e.name, bytes };
  }
}
