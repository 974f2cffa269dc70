import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MatformerError } from '../errors';
import { checkOrtDevice, cudaUnavailableError } from './ort-device';

const ortDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
const hasCuda = existsSync(
  join(ortDir, 'bin/napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so'),
);

describe('checkOrtDevice', () => {
  it('passes the CPU provider', async () => {
    await expect(checkOrtDevice('cpu')).resolves.toBeUndefined();
  });

  it.skipIf(hasCuda)(
    'refuses CUDA on the CPU build in one line that says how to fix it',
    async () => {
      const err = await checkOrtDevice('cuda').then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(MatformerError);
      expect(err!.message).toBe(
        cudaUnavailableError(
          'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library',
        ).message,
      );
      expect(err!.message).not.toContain('\n');
      expect(err!.message).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12 .* or use --device cpu$/);
    },
  );
});
