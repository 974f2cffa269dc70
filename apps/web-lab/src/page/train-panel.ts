import { familyOf } from '@matformer/core';
import type { EvalRow } from '@matformer/train';
import { $, bump, inputNumber, inputValue, setData } from './dom';
import { Lab } from './lab';
import { LossPlot } from './loss-plot';
import { act, currentLab, fmt, session } from './session';
import { checkSettings, type TrainSettings } from './settings';

/** The Train form's values, checked (ConfigError naming the first bad field). */
export function settingsFromForm(): TrainSettings {
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

/** Held-out loss and bits/byte of each granularity. */
export function showEvalTable(rows: EvalRow[]): void {
  $('eval-table')
    .querySelector('tbody')!
    .replaceChildren(
      ...rows.map((r) => {
        const tr = document.createElement('tr');
        const cells = [
          r.name,
          fmt(r.params),
          r.loss.toFixed(4),
          (r.bitsPerToken ?? NaN).toFixed(3),
        ];
        for (const v of cells) {
          const td = document.createElement('td');
          td.textContent = v;
          tr.appendChild(td);
        }
        return tr;
      }),
    );
}

/** Shows which model the page holds and resets the inputs that depend on its shape. */
export function showModel(source: string): void {
  const lab = currentLab();
  const c = lab.config;
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
  const params = lab.model.storedParamCount;
  $('model-info').textContent =
    `${source}: ${familyOf(c).name} d ${c.dModel}, ${c.nLayers} layers, context ${c.maxSeqLen}, ${fmt(params)} params, granularities ${g.join('/')}`;
  setData({ model: { source, arch: c.arch, nLayers: c.nLayers, granularities: g, params } });
}

/** Trains a fresh model from the form, drawing every step and evaluation as it comes. */
async function train(plot: LossPlot): Promise<void> {
  const settings = settingsFromForm();
  const lab = Lab.fresh(settings, session.corpus); // before the old one goes: a bad config keeps it
  session.lab?.dispose();
  session.lab = lab;
  const g = lab.config.granularities;
  showModel(`trained here (${settings.arch} ${settings.preset}, seed ${settings.seed})`);
  plot.reset(g, settings.steps);
  const trainLosses: Record<number, number[]> = Object.fromEntries(g.map((w) => [w, []]));
  const heldOut: { step: number; losses: Record<number, number> }[] = [];
  setData({ trainLosses, heldOut, step: 0, state: 'training' });
  session.stopRequested = false;
  ($('stop') as HTMLButtonElement).disabled = false;
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
      $('progress').textContent =
        `step ${m.step}/${settings.steps} · joint loss ${m.loss.toFixed(3)} · ${fmt(Math.round(m.throughput))} tokens/s`;
      plot.addTrain(m.step, m.losses);
      const tps = (1000 * tokens) / stepMs;
      setData({ step: m.step, trainLosses, trainTokensPerSecond: tps, stepMs: stepTimes });
    },
    onEval(step, evalRows) {
      const losses = Object.fromEntries(evalRows.map((r) => [r.widths[0], r.loss]));
      heldOut.push({ step, losses });
      plot.addHeldOut(step, losses);
      showEvalTable(evalRows);
      setData({ heldOut });
    },
    stopRequested: () => session.stopRequested,
  });
  showEvalTable(rows);
  bump('trainings');
}

export function wireTrainPanel(): void {
  const plot = new LossPlot($('loss-plot') as unknown as SVGSVGElement);
  $('train').addEventListener('click', () => void act('train', () => train(plot)));
  $('stop').addEventListener('click', () => {
    session.stopRequested = true;
  });
}
