// The web lab page: wires the panels of static/index.html to a Lab (the model and what is done
// with it). Every action runs through `act`, which shows its error on the page and leaves the
// page ready for the next one.
import * as tf from '@tensorflow/tfjs';
import { familyOf, type Widths } from '@matformer/core';
import {
  decodeBytes,
  encodeBytes,
  textCorpus,
  type EvalRow,
  type TextCorpus,
} from '@matformer/train';
import {
  $,
  bump,
  clearMessage,
  download,
  inputNumber,
  inputValue,
  setData,
  showMessage,
} from './dom';
import { Lab, type Generation } from './lab';
import { LossPlot } from './loss-plot';
import { modelFromSafetensors, modelToSafetensors } from './model-file';
import { startRuntime, type Runtime } from './runtime';
import { checkSettings, DATA_DEFAULTS, SHIPPED_TEXT, type TrainSettings } from './settings';
import { checkTextBytes } from './text-input';
import { parseWidths } from './widths';

let runtime: Runtime;
let corpus: TextCorpus;
/** The shipped text, kept to switch back to after a dropped one. */
let shipped: TextCorpus;
let lab: Lab | undefined;
let stopRequested = false;
const plot = new LossPlot($('loss-plot') as unknown as SVGSVGElement);

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

/** Enables the buttons that make sense now (most need a model). */
function enableButtons(busy: boolean): void {
  for (const id of ACTION_BUTTONS)
    ($(id) as HTMLButtonElement).disabled = busy || (!MODEL_FREE.has(id) && !lab);
  ($('stop') as HTMLButtonElement).disabled = true;
  for (const id of ['model-file', 'text-file']) ($(id) as HTMLInputElement).disabled = busy;
}

/**
 * Runs one page action: busy while it runs, its error (any) shown above the panels and counted
 * in data-errors, then ready again with the previous model and data intact.
 */
async function act(name: string, fn: () => Promise<void>): Promise<void> {
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

function settingsFromForm(): TrainSettings {
  const seqLen = inputValue('seq-len');
  return checkSettings({
    arch: inputValue('arch') as TrainSettings['arch'],
    preset: inputValue('preset') as TrainSettings['preset'],
    steps: inputNumber('steps'),
    batchSize: inputNumber('batch'),
    seqLen: seqLen === '' ? undefined : Number(seqLen),
    lr: inputNumber('lr'),
    seed: inputNumber('seed'),
    evalEvery: inputNumber('eval-every'),
  });
}

const fmt = (n: number) => n.toLocaleString('en-US');

function showEvalTable(rows: EvalRow[]): void {
  $('eval-table')
    .querySelector('tbody')!
    .replaceChildren(
      ...rows.map((r) => {
        const tr = document.createElement('tr');
        for (const v of [
          r.name,
          fmt(r.params),
          r.loss.toFixed(4),
          (r.bitsPerToken ?? NaN).toFixed(3),
        ]) {
          const td = document.createElement('td');
          td.textContent = v;
          tr.appendChild(td);
        }
        return tr;
      }),
    );
}

/** Shows what model the page holds and resets the panels that depend on its shape. */
function showModel(source: string): void {
  const c = lab!.config;
  const g = c.granularities;
  $('granularities').textContent = g.join(', ');
  $<HTMLInputElement>('widths').value = String(g.at(-1));
  $<HTMLInputElement>('draft-widths').value = String(g[0]);
  $('presets').replaceChildren(
    ...g.map((w) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = String(w);
      b.title = `every layer at width ${w}`;
      b.addEventListener('click', () => {
        $<HTMLInputElement>('widths').value = String(w);
      });
      return b;
    }),
  );
  const params = lab!.model.storedParamCount;
  $('model-info').textContent =
    `${source}: ${familyOf(c).name} d ${c.dModel}, ${c.nLayers} layers, context ${c.maxSeqLen}, ${fmt(params)} params, granularities ${g.join('/')}`;
  setData({ model: { source, arch: c.arch, nLayers: c.nLayers, granularities: g, params } });
}

async function train(): Promise<void> {
  const settings = settingsFromForm();
  lab?.dispose();
  lab = undefined;
  lab = Lab.fresh(settings, corpus);
  const g = lab.config.granularities;
  showModel(`trained here (${settings.arch} ${settings.preset}, seed ${settings.seed})`);
  plot.reset(g, settings.steps);
  const trainLosses: Record<number, number[]> = Object.fromEntries(g.map((w) => [w, []]));
  const heldOut: { step: number; losses: Record<number, number> }[] = [];
  setData({ trainLosses, heldOut, step: 0 });
  stopRequested = false;
  ($('stop') as HTMLButtonElement).disabled = false;
  setData({ state: 'training' });
  // Throughput over the steps themselves (the graph build and evaluations excluded).
  let tokens = 0;
  let stepMs = 0;
  const stepTimes: number[] = [];
  const rows = await lab.train({
    onStep(m) {
      for (const [w, l] of Object.entries(m.losses)) trainLosses[Number(w)].push(l);
      tokens += (m.throughput * m.ms) / 1000;
      stepMs += m.ms;
      stepTimes.push(Math.round(m.ms * 10) / 10);
      const tps = (1000 * tokens) / stepMs;
      $('progress').textContent =
        `step ${m.step}/${settings.steps} · joint loss ${m.loss.toFixed(3)} · ${fmt(Math.round(m.throughput))} tokens/s`;
      plot.addTrain(m.step, m.losses);
      setData({ step: m.step, trainLosses, trainTokensPerSecond: tps, stepMs: stepTimes });
    },
    onEval(step, evalRows) {
      const losses = Object.fromEntries(evalRows.map((r) => [r.widths[0], r.loss]));
      heldOut.push({ step, losses });
      plot.addHeldOut(step, losses);
      showEvalTable(evalRows);
      setData({ heldOut });
    },
    stopRequested: () => stopRequested,
  });
  showEvalTable(rows);
  bump('trainings');
}

async function measure(): Promise<void> {
  const widths = parseWidths(inputValue('widths'), lab!.config);
  const { params, flops } = lab!.cost(widths);
  const full = lab!.cost(Array<number>(lab!.config.nLayers).fill(lab!.config.dFF));
  $('mix-params').textContent =
    `${fmt(params)} (${((100 * params) / full.params).toFixed(1)}% of full)`;
  $('mix-flops').textContent =
    `${fmt(Math.round(flops))} (${((100 * flops) / full.flops).toFixed(1)}% of full)`;
  $('mix-bpb').textContent = 'measuring…';
  const [row] = await lab!.evaluate([widths]);
  $('mix-bpb').textContent = `${row.bitsPerToken!.toFixed(3)} (loss ${row.loss.toFixed(4)})`;
  setData({ mix: { widths, params, flops, loss: row.loss, bitsPerByte: row.bitsPerToken } });
  bump('measures');
}

function showGeneration(mode: string, prompt: string, gen: Generation, extra: string): void {
  const text = decodeBytes(gen.tokens);
  $('output').textContent = prompt + text;
  $('gen-stats').textContent =
    `${mode}: ${gen.tokens.length} tokens, ${gen.tokensPerSecond.toFixed(1)} tokens/s${extra}`;
}

async function decode(speculative: boolean): Promise<void> {
  const config = lab!.config;
  const widths = parseWidths(inputValue('widths'), config);
  const promptText = $<HTMLInputElement>('prompt').value;
  const prompt = Array.from(encodeBytes(promptText));
  if (prompt.length === 0) throw new Error('the prompt is empty: type some text to continue');
  const opts = { maxNewTokens: inputNumber('max-tokens'), temperature: inputNumber('temperature') };
  if (!(Number.isInteger(opts.maxNewTokens) && opts.maxNewTokens >= 1 && opts.maxNewTokens <= 4096))
    throw new Error(
      `tokens must be a whole number from 1 to 4096, got ${inputValue('max-tokens')}`,
    );
  if (!(opts.temperature >= 0 && opts.temperature <= 10))
    throw new Error(`temperature must be from 0 to 10, got ${inputValue('temperature')}`);
  let gen: Generation;
  let draftWidths: Widths | undefined;
  let extra = '';
  if (speculative) {
    draftWidths = parseWidths(inputValue('draft-widths'), config);
    const k = inputNumber('draft-k');
    if (!(Number.isInteger(k) && k >= 1 && k <= 16))
      throw new Error(`k must be a whole number from 1 to 16, got ${inputValue('draft-k')}`);
    gen = await lab!.speculative(prompt, widths, draftWidths, { ...opts, k });
    const s = gen.stats as { acceptanceRate: number; tokensPerVerifierCall: number };
    extra = ` · acceptance ${(100 * s.acceptanceRate).toFixed(0)}%, ${s.tokensPerVerifierCall.toFixed(2)} tokens per verifier call`;
  } else gen = await lab!.generate(prompt, widths, opts);
  showGeneration(
    speculative ? `speculative (draft ${draftWidths!.join(',')})` : 'plain',
    promptText,
    gen,
    extra,
  );
  const nextLogits = Array.from(await lab!.nextLogits(prompt, widths));
  setData({
    generation: {
      mode: speculative ? 'speculative' : 'plain',
      widths,
      draftWidths,
      temperature: opts.temperature,
      prompt: promptText,
      tokens: gen.tokens,
      tokensPerSecond: gen.tokensPerSecond,
    },
    nextLogits,
  });
  bump('generations');
}

async function readFileBytes(
  input: HTMLInputElement | File,
): Promise<{ bytes: Uint8Array; name: string }> {
  const file = input instanceof File ? input : input.files?.[0];
  if (!file) throw new Error('no file chosen');
  return { bytes: new Uint8Array(await file.arrayBuffer()), name: file.name };
}

async function useText(file: File): Promise<void> {
  const { bytes, name } = await readFileBytes(file);
  corpus = textCorpus(checkTextBytes(bytes, name), name, {
    valFraction: DATA_DEFAULTS.valFraction,
  });
  if (lab) lab = lab.withCorpus(corpus);
  showCorpus();
  showMessage(`Training text is now "${name}". Train to learn it.`, 'info');
}

function showCorpus(): void {
  $('corpus').textContent =
    `Text: ${corpus.name === SHIPPED_TEXT ? 'Moby Dick (shipped)' : corpus.name} · ${fmt(corpus.train.length)} training bytes, ${fmt(corpus.val.length)} held out`;
  setData({ corpus: { name: corpus.name, train: corpus.train.length, val: corpus.val.length } });
}

async function loadModel(input: HTMLInputElement): Promise<void> {
  const { bytes, name } = await readFileBytes(input);
  input.value = ''; // the same file can be chosen again
  const model = modelFromSafetensors(bytes, name);
  lab?.dispose();
  lab = Lab.around(model, corpus, settingsFromForm());
  showModel(`loaded from ${name}`);
  const rows = await lab.evaluate(lab.config.granularities);
  showEvalTable(rows);
  bump('loads');
}

function wire(): void {
  $('train').addEventListener('click', () => void act('train', train));
  $('stop').addEventListener('click', () => {
    stopRequested = true;
  });
  $('measure').addEventListener('click', () => void act('measure', measure));
  $('generate').addEventListener('click', () => void act('generate', () => decode(false)));
  $('speculative').addEventListener('click', () => void act('speculative', () => decode(true)));
  $('download-safetensors').addEventListener(
    'click',
    () =>
      void act('download', async () => {
        download(modelToSafetensors(lab!.model), 'model.safetensors', 'application/octet-stream');
      }),
  );
  $('download-onnx').addEventListener(
    'click',
    () =>
      void act('download', async () => {
        const widths = parseWidths(inputValue('widths'), lab!.config);
        download(lab!.onnxBytes(widths), 'model.onnx', 'application/octet-stream');
      }),
  );
  const modelInput = $<HTMLInputElement>('model-file');
  modelInput.addEventListener('change', () => void act('load', () => loadModel(modelInput)));
  const textInput = $<HTMLInputElement>('text-file');
  textInput.addEventListener('change', () => {
    const file = textInput.files?.[0];
    textInput.value = '';
    if (file) void act('text', () => useText(file));
  });
  $('shipped-text').addEventListener(
    'click',
    () =>
      void act('text', async () => {
        corpus = shipped;
        if (lab) lab = lab.withCorpus(corpus);
        showCorpus();
      }),
  );
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = e.dataTransfer?.files[0];
    void act('text', async () => {
      if (!file) throw new Error('the drop held no file: drop a .txt file');
      await useText(file);
    });
  });
}

async function start(): Promise<void> {
  // tfjs holds the weights between runs and initialises them; its CPU backend gives the same
  // numbers as Node's (the heavy work is onnxruntime's).
  await tf.setBackend('cpu');
  runtime = await startRuntime();
  $('backend').textContent = runtime.description;
  setData({
    backend: runtime.device,
    threads: runtime.threads,
    isolated: runtime.crossOriginIsolated,
  });
  const res = await fetch(`/corpus/${SHIPPED_TEXT}.txt`);
  if (!res.ok) throw new Error(`the shipped corpus did not load (HTTP ${res.status})`);
  corpus = shipped = textCorpus(new Uint8Array(await res.arrayBuffer()), SHIPPED_TEXT, {
    valFraction: DATA_DEFAULTS.valFraction,
  });
  showCorpus();
  wire();
  setData({ state: 'ready', errors: 0 });
  enableButtons(false);
}

start().catch((e: Error) => {
  showMessage(`The page could not start: ${e.message}`);
  setData({ state: 'failed', error: e.message });
});
