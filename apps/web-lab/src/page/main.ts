// The web lab page: starts onnxruntime-web, loads the shipped text, and wires each panel of
// static/index.html (train, Mix'n'Match, generate, files) to the page's Lab. Every action runs
// through session.act, which shows its error on the page and leaves the page ready.
import * as tf from '@tensorflow/tfjs';
import { $, setData, showMessage } from './dom';
import { corpusOf, showCorpus, wireFilesPanel } from './files-panel';
import { wireGeneratePanel } from './generate-panel';
import { wireMixPanel } from './mix-panel';
import { startRuntime } from './runtime';
import { enableButtons, session } from './session';
import { SHIPPED_TEXT } from './settings';
import { wireTrainPanel } from './train-panel';

async function start(): Promise<void> {
  // tfjs holds and initialises the weights; its CPU backend draws the same initial values as
  // Node's (the heavy work is onnxruntime's).
  await tf.setBackend('cpu');
  const runtime = await startRuntime();
  $('backend').textContent = runtime.description;
  setData({
    backend: runtime.device,
    threads: runtime.threads,
    isolated: runtime.crossOriginIsolated,
  });
  const res = await fetch(`/corpus/${SHIPPED_TEXT}.txt`);
  if (!res.ok) throw new Error(`the shipped text did not load (HTTP ${res.status})`);
  session.corpus = session.shipped = corpusOf(
    new Uint8Array(await res.arrayBuffer()),
    SHIPPED_TEXT,
  );
  showCorpus();
  wireTrainPanel();
  wireMixPanel();
  wireGeneratePanel();
  wireFilesPanel();
  setData({ state: 'ready', errors: 0 });
  enableButtons(false);
}

start().catch((e: Error) => {
  showMessage(`The page could not start: ${e.message}`);
  setData({ state: 'failed', error: e.message });
});
