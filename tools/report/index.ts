// The paper-claims report: trains (or reuses) a MatLM and a MatViT with independently trained
// baselines, measures loss, Mix'n'Match, consistency, speculative decoding and adaptive
// retrieval, and writes report/README.md, SVG figures and results.json.
//
//   npm run report                       full mode (about an hour on 2 idle cores; cached in runs/report/)
//   npm run report -- --quick            tiny models, a few steps (CI smoke test; runs/report-quick/)
//   options: --out <dir> (default report)  --runs <dir> (the training cache)  --jobs N (LM seeds trained in parallel)
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeBackend, paramCount, selectBackend, writeFileAtomic } from '@matformer/core';
import { loadOrt } from '@matformer/core/onnx';
import { resolveEngine, type TrainEngine } from '@matformer/train';
import { consistencyRows, speculativeRows, type SpeculativeResult } from './decoding';
import { lossRows, trainLMFamily } from './lm';
import { readme } from './markdown';
import { mixAndMatch } from './mix';
import { largeSpeculative, type LargeSpecResult } from './speculative-large';
import { speculativeModels } from '../speculative-models';
import { figures } from './plots';
import type { Results, TrainingRow } from './results';
import { fullSettings, quickSettings, type Settings } from './settings';
import { accuracyRows, retrieval, trainViTFamily } from './vit';

const USAGE = `usage: npx tsx --conditions=@matformer/source tools/report/index.ts [--quick] [--out <dir>] [--runs <dir>] [--jobs N]
  --quick       tiny models and a handful of steps (about a minute); every table and figure, meaningless numbers
  --out <dir>   where README.md, the SVG figures and results.json go (default: report)
  --runs <dir>  cache of trained models (default: runs/report, or runs/report-quick with --quick)
  --jobs N      train the LM family's seeds in N processes at once, the cores split between them
                (default: one per seed, at most one per core; on 2 cores, two one-thread processes
                train ~1.2× the tokens per second of one two-thread process). --jobs 1: in this process`;

function parse() {
  try {
    return parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        out: { type: 'string', default: 'report' },
        runs: { type: 'string' },
        jobs: { type: 'string' },
        // Internal (a --jobs child): train only these LM seeds with this many threads, then exit.
        'lm-seeds': { type: 'string' },
        'train-threads': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

/** The command a reader runs to regenerate this report (as `npm run report`, with the options given). */
function commandLine(args: ReturnType<typeof parse>): string {
  const extra = [
    ...(args.quick ? ['--quick'] : []),
    ...(args.out !== 'report' ? ['--out', args.out!] : []),
    ...(args.runs ? ['--runs', args.runs] : []),
    ...(args.jobs !== undefined ? ['--jobs', args.jobs] : []),
  ];
  return `npm run report${extra.length ? ` -- ${extra.join(' ')}` : ''}`;
}

async function main(): Promise<void> {
  const args = parse();
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const settings = args.quick ? quickSettings() : fullSettings();
  const runs = args.runs ?? (args.quick ? 'runs/report-quick' : 'runs/report');
  const out = args.out!;
  const t00 = performance.now();
  const log = (line: string) =>
    process.stderr.write(`[${((performance.now() - t00) / 1000).toFixed(0).padStart(5)} s] ${line}\n`);
  const timings: Record<string, number> = {};
  const stage = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
    log(`${name}…`);
    const t0 = performance.now();
    const result = await fn();
    timings[name] = (performance.now() - t0) / 1000;
    return result;
  };

  const choice = await selectBackend();
  const engine = await resolveEngine(settings.engine);
  const ortLoads = await loadOrt().then(
    () => true,
    () => false,
  );
  const load0 = loadavg()[0];
  log(`report (${settings.mode}) → ${out}/, models cached in ${runs}/; backend ${describeBackend(choice)}; training engine ${engine}; load ${load0.toFixed(1)}`);

  const jobs = args.jobs === undefined ? Math.min(settings.lm.seeds.length, cpus().length) : Number(args.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs must be a whole number ≥ 1, got "${args.jobs}"`);
  if (args['lm-seeds'] !== undefined) {
    await trainSeeds(settings, engine, runs, args['lm-seeds'], Number(args['train-threads'] ?? cpus().length), log);
    return;
  }
  if (jobs > 1 && settings.lm.seeds.length > 1)
    await stage('LM training in parallel', () => trainSeedsInParallel(args, runs, settings.lm.seeds, jobs, log));
  const lmFam = await stage('LM training', () => trainLMFamily(settings.lm, engine, runs, log));
  const vitFam = await stage('ViT training', () => trainViTFamily(settings.vit, engine, runs, log));
  const losses = await stage('LM loss', () => lossRows(lmFam));
  const mix = await stage("Mix'n'Match", () => mixAndMatch(lmFam, settings.mix, log));
  const consistency = await stage('consistency', () => consistencyRows(lmFam, settings.consistency));
  const speculative: SpeculativeResult[] = [];
  for (const kind of settings.speculative.engines) {
    if (kind !== 'tfjs' && !ortLoads) {
      log(`speculative decoding on onnxruntime (${kind}) skipped: onnxruntime-node does not load here`);
      continue;
    }
    speculative.push(await stage(`speculative decoding (${kind})`, () => speculativeRows(lmFam, settings.speculative, kind)));
  }
  let speculativeLarge: LargeSpecResult | undefined;
  if (ortLoads) {
    const large = settings.speculativeLarge;
    const models = await stage(`${large.training.label} model for speculative decoding`, () =>
      speculativeModels({ root: large.root ?? runs, training: large.training, corpus: lmFam.corpus, log }),
    );
    speculativeLarge = await stage(`speculative decoding (${large.training.label}, decoder graph)`, () =>
      largeSpeculative(models, lmFam.corpus, large),
    );
    models.model.dispose();
    models.baseline.dispose();
  } else log('speculative decoding of the large model skipped: onnxruntime-node does not load here');
  const accuracy = await stage('ViT accuracy', () => accuracyRows(vitFam));
  const ret = await stage('retrieval', () => retrieval(vitFam, settings.retrieval));

  const seedOf = (i: number) => lmFam.seeds[i];
  const training: TrainingRow[] = [
    lmFam.seeds.flatMap((seed, i) => [
      { run: lmFam.matformer[i], seed },
      ...(i === 0 && lmFam.upweighted ? [{ run: lmFam.upweighted, seed }] : []),
      ...[...lmFam.baselines.values()].map((runs) => ({ run: runs[i], seed: seedOf(i) })),
    ]).map((x) => ({ ...x, family: 'lm' as const })),
    [vitFam.matformer, ...vitFam.baselines.values()].map((run) => ({ run, seed: settings.vit.train.seed ?? 0, family: 'vit' as const })),
  ]
    .flat()
    .map(({ run, family, seed }) => ({
      name: run.name,
      seed,
      family,
      widths: run.model.config.granularities,
      params: paramCount(run.model.config),
      steps: run.steps,
      seconds: run.seconds,
      reused: run.reused,
    }));
  const command = commandLine(args);
  const results: Results = {
    env: {
      command,
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.versions.node,
      platform: `${platform()} ${release()}`,
      backend: describeBackend(choice),
      engine: engine === 'ort' ? 'onnxruntime-node (cpu)' : `tfjs (${describeBackend(choice)})`,
      load: [load0, loadavg()[0]],
    },
    settings,
    training,
    curves: {
      matformer: lmFam.matformer.map((r) => r.curve),
      baseline: lmFam.baselines.get(settings.lm.config.dFF)!.map((r) => r.curve),
    },
    lm: {
      tokensPerModel: lmFam.tokensPerModel,
      heldOut: lmFam.matformer.map((run) =>
        run.evals.map((e) => ({ step: e.step, losses: settings.lm.config.granularities.map((w) => e.losses[String(w)]) })),
      ),
      losses,
      mix,
      consistency,
      speculative,
      speculativeLarge,
    },
    vit: { imagesPerModel: vitFam.imagesPerModel, accuracy, retrieval: ret },
    timings,
  };

  const figs = figures(results);
  const markdown = readme(results, figs, command);
  await mkdir(out, { recursive: true });
  // Figures from an older version of the report would otherwise linger next to the new ones.
  if (existsSync(out))
    for (const f of await readdir(out))
      if (f.endsWith('.svg') && !figs.some((g) => g.file === f)) await rm(join(out, f));
  for (const f of figs) await writeFileAtomic(join(out, f.file), f.svg);
  await writeFileAtomic(join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  await writeFileAtomic(join(out, 'README.md'), markdown);
  log(`wrote ${out}/README.md, ${figs.length} figures and results.json in ${((performance.now() - t00) / 1000).toFixed(0)} s`);
}

/** A --jobs child: trains the LM family of the given seeds only (the parent then reuses them). */
async function trainSeeds(
  settings: Settings,
  engine: TrainEngine,
  runs: string,
  list: string,
  threads: number,
  log: (line: string) => void,
): Promise<void> {
  const seeds = list.split(',').map(Number);
  const unknown = seeds.filter((s) => !settings.lm.seeds.includes(s));
  if (unknown.length) throw new Error(`--lm-seeds ${list}: seed(s) ${unknown.join(', ')} are not in the report's seeds (${settings.lm.seeds.join(', ')})`);
  const first = settings.lm.seeds[0];
  for (const seed of seeds) {
    const lm = { ...settings.lm, seeds: [seed], upweightedLambdas: seed === first ? settings.lm.upweightedLambdas : undefined };
    await trainLMFamily(lm, engine, runs, (line) => log(`[seed ${seed}] ${line}`), { threads }); // the process exits next
  }
}

/**
 * Trains the LM family's seeds in `jobs` child processes, the cores split between them, so the
 * sequential pass finds every model cached. On 2 cores, two one-thread onnxruntime processes train
 * about 1.2× the tokens per second of one two-thread process (measured: 3,060 tokens/s each vs
 * 5,000 for the mini shape; a step's small matmuls do not keep two threads busy).
 */
async function trainSeedsInParallel(
  args: ReturnType<typeof parse>,
  runs: string,
  seeds: number[],
  jobs: number,
  log: (line: string) => void,
): Promise<void> {
  const groups = Array.from({ length: Math.min(jobs, seeds.length) }, (_, i) => seeds.filter((_, j) => j % jobs === i));
  const threads = Math.max(1, Math.floor(cpus().length / groups.length));
  log(`training LM seeds ${groups.map((g) => g.join('+')).join(' | ')} in ${groups.length} processes, ${threads} thread(s) each`);
  await Promise.all(
    groups.map(
      (group) =>
        new Promise<void>((resolve, reject) => {
          const argv = [
            ...process.execArgv, // tsx's loader and the source condition
            process.argv[1],
            ...(args.quick ? ['--quick'] : []),
            ...['--runs', runs, '--lm-seeds', group.join(','), '--train-threads', String(threads)],
          ];
          const child = spawn(process.execPath, argv, { stdio: ['ignore', 'inherit', 'inherit'] });
          child.on('error', reject);
          child.on('exit', (code, signal) =>
            code === 0 ? resolve() : reject(new Error(`training LM seed(s) ${group.join(', ')} failed (${signal ?? `exit code ${code}`})`)),
          );
        }),
    ),
  );
}

main().then(
  // Exit explicitly: a stray timer or native handle must not keep a finished report alive.
  () => process.exit(0),
  (e) => {
    console.error(`report failed: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
