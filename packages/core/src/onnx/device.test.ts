import { describe, expect, it } from 'vitest';
import { checkChoice, checkThreads } from '../errors';
import { matlmConfig } from '../config';
import { MatLM } from '../models/matlm';
import { useBackend } from '../test-backends';
import { OnnxDecoderEngine } from './decoder-engine';
import { checkOrtDevice } from './device';
import { toOnnxDecoder } from './lm-decoder';
import { createSession } from './ort';

describe('fixed-value options are checked, naming the option and its values (issue #23)', () => {
  it('checkChoice and checkThreads', () => {
    expect(checkChoice('engine', 'ort', ['ort', 'tfjs'])).toBe('ort');
    expect(checkChoice('quantize', undefined, ['int8'], true)).toBeUndefined();
    expect(() => checkChoice('engine', 'foo', ['ort', 'tfjs'])).toThrow(
      'engine must be one of "ort", "tfjs", got "foo"',
    );
    expect(() => checkChoice('quantize', 'int4', ['int8'])).toThrow(
      'quantize must be "int8", got "int4"',
    );
    expect(checkThreads('threads', 2, 4)).toBe(2);
    expect(() => checkThreads('threads', 5, 4)).toThrow(
      'threads must be an integer from 1 to 4 (the cores this process may use), got 5',
    );
  });

  it('quantize, device and graphOptimizationLevel of the onnxruntime runtimes', async () => {
    await useBackend('wasm');
    const model = MatLM.create(matlmConfig('tiny'), 1);
    try {
      await expect(
        OnnxDecoderEngine.fromModel(model, { quantize: 'int4' as never }),
      ).rejects.toThrow('quantize must be "int8", got "int4"');
      expect(() => toOnnxDecoder(model, { quantize: 'int4' as never })).toThrow(
        'quantize must be "int8", got "int4"',
      );
      await expect(checkOrtDevice('gpu')).rejects.toThrow(
        'device must be one of "cpu", "cuda", got "gpu"',
      );
      expect(await checkOrtDevice('cpu')).toBe('cpu');
      await expect(
        createSession(new Uint8Array(), 'x', { graphOptimizationLevel: 'max' as never }),
      ).rejects.toThrow(
        'graphOptimizationLevel must be one of "disabled", "basic", "extended", "all", got "max"',
      );
    } finally {
      model.dispose();
    }
  });

  it("device cuda without onnxruntime's CUDA provider: one message with the way out", async () => {
    const outcome = await checkOrtDevice('cuda', '--device').then(
      () => 'started',
      (e: Error) => e.message,
    );
    if (outcome === 'started') return; // a machine with CUDA: nothing to refuse
    expect(outcome).toMatch(
      /^--device cuda: onnxruntime-node could not start its CUDA execution provider \(.+\); install onnxruntime-node with its CUDA binaries .* or use --device cpu$/,
    );
  });
});
