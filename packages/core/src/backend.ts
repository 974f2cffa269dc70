import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ConfigError } from './errors';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const backendNames: BackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface BackendChoice {
  /** The backend now active. */
  name: BackendName;
  /** For `tensorflow`: which native package provided it. */
  provider?: string;
  /** Why each faster backend was passed over, in the order tried. */
  skipped: { name: BackendName; reason: string }[];
}

// Native TensorFlow bindings, GPU first. Optional peers: imported only if the user installed one.
const nativePackages = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

async function tryTensorflow(): Promise<{ ok: boolean; provider?: string; reason?: string }> {
  const reasons: string[] = [];
  for (const pkg of nativePackages) {
    try {
      await import(/* @vite-ignore */ pkg);
      if (await tf.setBackend('tensorflow')) return { ok: true, provider: pkg };
      reasons.push(`${pkg} loaded but did not register the "tensorflow" backend`);
    } catch (e) {
      const missing =
        /MODULE_NOT_FOUND/.test(String((e as { code?: string }).code)) ||
        /cannot find|could not resolve/i.test((e as Error).message);
      reasons.push(
        missing ? `${pkg} not installed` : `${pkg}: ${(e as Error).message.split('\n')[0]}`,
      );
    }
  }
  return { ok: false, reason: reasons.join('; ') };
}

/**
 * Picks the fastest tfjs backend available: `tensorflow` (native, from an installed
 * @tensorflow/tfjs-node-gpu or tfjs-node), else `wasm`, else `cpu`. `prefer` (or the
 * MATFORMER_BACKEND environment variable) forces one; it fails clearly if that one is unavailable.
 */
export async function selectBackend(
  prefer: BackendName | undefined = envBackend(),
): Promise<BackendChoice> {
  if (prefer !== undefined && !backendNames.includes(prefer)) {
    throw new ConfigError(`unknown backend "${prefer}"; allowed: ${backendNames.join(', ')}`);
  }
  const order = prefer ? [prefer] : backendNames;
  const skipped: BackendChoice['skipped'] = [];
  for (const name of order) {
    if (name === 'tensorflow') {
      const r = await tryTensorflow();
      if (r.ok) return { name, provider: r.provider, skipped };
      skipped.push({ name, reason: r.reason! });
      continue;
    }
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return { name, skipped };
      }
      skipped.push({ name, reason: 'setBackend returned false' });
    } catch (e) {
      skipped.push({ name, reason: (e as Error).message.split('\n')[0] });
    }
  }
  const why = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  throw new ConfigError(
    `no usable tfjs backend (${prefer ? `forced "${prefer}"` : 'tried all'}): ${why}`,
  );
}

function envBackend(): BackendName | undefined {
  const v = typeof process !== 'undefined' ? process.env.MATFORMER_BACKEND : undefined;
  return v ? (v as BackendName) : undefined;
}

/** One line for logs: which backend runs and why the faster ones did not. */
export function describeBackend(choice: BackendChoice): string {
  const head = choice.provider ? `${choice.name} (${choice.provider})` : choice.name;
  return choice.skipped.length
    ? `${head}; skipped ${choice.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`
    : head;
}
