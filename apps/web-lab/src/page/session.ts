import type { TextCorpus } from '@matformer/train';
import { $, bump, clearMessage, setData, showMessage } from './dom';
import type { Lab } from './lab';

/** What the page holds between actions. */
export const session = {
  /** The text the next run trains on, and Mix'n'Match measures. */
  corpus: undefined as unknown as TextCorpus,
  /** The shipped text, kept to switch back to after a dropped one. */
  shipped: undefined as unknown as TextCorpus,
  /** The model and what is done with it; none until one is trained or loaded. */
  lab: undefined as Lab | undefined,
  /** Set by Stop; the training loop checks it between steps. */
  stopRequested: false,
};

/** The page's model; actions that need one are only enabled when there is one. */
export function currentLab(): Lab {
  if (!session.lab) throw new Error('no model yet: train one or load a .safetensors file');
  return session.lab;
}

const ACTION_BUTTONS = [
  'train',
  'measure',
  'generate',
  'speculative',
  'download-safetensors',
  'download-onnx',
  'shipped-text',
];
/** Buttons that need no model. */
const MODEL_FREE = new Set(['train', 'shipped-text']);

/** Enables the buttons that make sense now (most need a model); Stop only while training. */
export function enableButtons(busy: boolean): void {
  for (const id of ACTION_BUTTONS)
    ($(id) as HTMLButtonElement).disabled = busy || (!MODEL_FREE.has(id) && !session.lab);
  ($('stop') as HTMLButtonElement).disabled = true;
  for (const id of ['model-file', 'text-file']) ($(id) as HTMLInputElement).disabled = busy;
}

/**
 * Runs one page action: busy while it runs, its error (any) shown above the panels and counted
 * in data-errors, then ready again with the previous model and data intact.
 */
export async function act(name: string, fn: () => Promise<void>): Promise<void> {
  if (document.body.dataset.state !== 'ready') return;
  setData({ state: 'busy', action: name });
  enableButtons(true);
  clearMessage();
  try {
    await fn();
  } catch (e) {
    const message = (e as Error).message ?? String(e);
    showMessage(message);
    setData({ error: message });
    bump('errors');
  } finally {
    setData({ state: 'ready' });
    enableButtons(false);
  }
}

export const fmt = (n: number) => n.toLocaleString('en-US');
