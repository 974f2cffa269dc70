import { Command, InvalidArgumentError, Option } from 'commander';
import {
  describeBackend,
  selectBackend,
  vitPresetNames,
  type BackendName,
  type ViTPresetName,
} from '@matformer/core';
import { encoderForBudget, parseStoreSpec } from '@matformer/retrieval';
import type { EngineChoice, OrtDevice } from '@matformer/train';
import { int, positive } from './args';
import { imageAt } from './data';
import {
  DEFAULT_RUN_DIR,
  defaultTrainSettings,
  demoConfig,
  demoState,
  measureReport,
  partialTrain,
  prepare,
  savedReport,
  withRunDir,
  type PipelineOptions,
} from './pipeline';
import { startServer } from './server';
import { formatReport, targetCheck } from './table';

interface CommonFlags {
  runDir: string;
  preset: ViTPresetName;
  patchSize: number;
  pool: 'cls' | 'mean';
  granularitiesPerStep?: 'all' | number;
  /** Deprecated alias of granularitiesPerStep. */
  granularities?: 'all' | number;
  retrain?: boolean;
  steps?: number;
  batchSize?: number;
  lr?: number;
  maxShift?: number;
  seed?: number;
  backend?: BackendName;
  k: number;
  m?: number;
  efConstruction?: number;
  ef?: number;
  queries?: number;
  database?: number;
  engine: EngineChoice;
  device: OrtDevice;
  store?: string;
}

/** Options shared by the table and the web page: where the model lives, how it trains, the index. */
function common(cmd: Command): Command {
  return cmd
    .option(
      '--run-dir <dir>',
      'run directory: model, index and results are cached here',
      DEFAULT_RUN_DIR,
    )
    .option('--retrain', 'train a new model even if the run directory holds one')
    .addOption(
      new Option('--preset <name>', 'MatViT preset').choices(vitPresetNames).default('small'),
    )
    .option(
      '--patch-size <px>',
      "patch side (7: 16 tokens; the preset's 4: 49 tokens, 3× the compute)",
      int('--patch-size'),
      7,
    )
    .addOption(
      new Option('--pool <kind>', 'pooled embedding').choices(['mean', 'cls']).default('mean'),
    )
    .option(
      '--granularities-per-step <all|k>',
      'granularities trained per step: all (the paper) or k drawn at random',
      (v: string) => (v === 'all' ? 'all' : int('--granularities-per-step')(v)),
    )
    .addOption(
      new Option('--granularities <all|k>', 'deprecated alias of --granularities-per-step')
        .argParser((v: string) => (v === 'all' ? 'all' : int('--granularities')(v)))
        .hideHelp(),
    )
    .option('--steps <n>', 'training steps (when training)', int('--steps'))
    .option('--batch-size <n>', 'training batch size', int('--batch-size'))
    .option('--lr <x>', 'peak learning rate', positive('--lr'))
    .option('--max-shift <px>', 'random shift augmentation, pixels', int('--max-shift', 0))
    .option('--seed <n>', 'seed of weights and batches', int('--seed', 0))
    .addOption(
      new Option('--backend <name>', 'tfjs backend (default: fastest available)').choices([
        'tensorflow',
        'wasm',
        'cpu',
      ]),
    )
    .addOption(
      new Option(
        '--engine <name>',
        'training engine: ort (onnxruntime-node), tfjs, or auto = ort where installed',
      )
        .choices(['auto', 'ort', 'tfjs'])
        .default('auto'),
    )
    .addOption(
      new Option('--device <name>', 'onnxruntime execution provider (engine ort)')
        .choices(['cpu', 'cuda'])
        .default('cpu'),
    )
    .option('-k, --k <n>', 'neighbours per query', int('-k'), 10)
    .option('--m <n>', 'hnswlib M (graph degree)', int('--m'))
    .option('--ef-construction <n>', 'hnswlib efConstruction', int('--ef-construction'))
    .option('--ef <n>', 'HNSW ef at query time (hnswlib or pgvector)', int('--ef'))
    .option(
      '--store <where>',
      'database store: hnsw (in process, default), pglite:<dir> (embedded PostgreSQL + pgvector) or postgres://user@host/db',
      (v: string) => {
        try {
          parseStoreSpec(v);
        } catch (e) {
          throw new InvalidArgumentError(`--${(e as Error).message}`);
        }
        return v;
      },
    )
    .option('--queries <n>', 'use only the first n held-out digits as queries', int('--queries'))
    .option(
      '--database <n>',
      'use only the first n train digits as the database',
      int('--database'),
    );
}

/** --granularities-per-step, or its deprecated alias --granularities (with a note). */
function granularitiesPerStep(
  f: CommonFlags,
  log: (s: string) => void,
): 'all' | number | undefined {
  if (f.granularities !== undefined && f.granularitiesPerStep === undefined)
    log(
      'note: --granularities is deprecated (granularities are the nested widths); use --granularities-per-step',
    );
  return f.granularitiesPerStep ?? f.granularities;
}

function pipelineOptions(f: CommonFlags, log: (s: string) => void): PipelineOptions {
  const settings = defaultTrainSettings(
    demoConfig({ patchSize: f.patchSize, pool: f.pool }, f.preset),
  );
  settings.train = {
    ...settings.train,
    ...partialTrain({
      steps: f.steps,
      lr: f.lr,
      seed: f.seed,
      granularitiesPerStep: granularitiesPerStep(f, log),
    }),
  };
  if (f.batchSize !== undefined) settings.batchSize = f.batchSize;
  if (f.maxShift !== undefined) settings.maxShift = f.maxShift;
  return {
    runDir: f.runDir,
    settings,
    retrain: f.retrain,
    databaseLimit: f.database,
    queryLimit: f.queries,
    engine: f.engine,
    device: f.device,
    store: f.store,
    k: f.k,
    hnsw: Object.fromEntries(
      Object.entries({ M: f.m, efConstruction: f.efConstruction, ef: f.ef }).filter(
        ([, v]) => v !== undefined,
      ),
    ),
    log,
  };
}

const log = (s: string) => process.stderr.write(`${s}\n`);

async function backend(name?: BackendName): Promise<void> {
  log(`tfjs backend: ${describeBackend(await selectBackend(name))}`);
}

const program = common(
  new Command('retrieval-demo')
    .description(
      'MatFormer adaptive retrieval on MNIST: train (or load) a MatViT, index the train digits with the full encoder, query the held-out digits with every nested submodel',
    )
    .enablePositionalOptions(),
)
  .option(
    '--budget-ms <ms>',
    'also pick the best query encoder within this latency per query, measured here',
    positive('--budget-ms'),
  )
  .action(async (f: CommonFlags & { budgetMs?: number }) => {
    await backend(f.backend);
    const o = pipelineOptions(f, log);
    const { p, report } = await withRunDir(o, async () => {
      const p = await prepare(o);
      log(`querying with ${p.data.test.labels.length} held-out digits per encoder…`);
      return { p, report: await measureReport(o, p) };
    });
    const buildNote =
      p.db.buildMs !== undefined
        ? `index build ${(p.db.buildMs / 1000).toFixed(2)} s`
        : `index loaded from ${p.db.path}`;
    const storeName = p.db.store.kind === 'hnsw' ? 'hnswlib' : `pgvector (${p.db.store.location})`;
    console.log(
      `\n${report.database} database digits (full encoder), ${report.queries} held-out queries, ${storeName} cosine M=${report.hnsw.M} efConstruction=${report.hnsw.efConstruction} ef=${report.hnsw.ef}; ${buildNote}\n`,
    );
    console.log(formatReport(report));
    console.log(`\n${targetCheck(report).text}`);
    if (f.budgetMs !== undefined) {
      const state = demoState(p, f.k, report);
      const sample = p.data.test.images.subarray(0, 8 * imageAt(p.data.test, 0).length);
      const choice = await encoderForBudget(p.stored.model, state.encoders, f.budgetMs, sample);
      console.log(
        `\nlatency budget ${f.budgetMs} ms/query: ${choice.encoder.name} (measured: ${choice.measured.map((m) => `${m.name} ${m.ms.toFixed(2)} ms`).join(', ')})`,
      );
    }
    await p.db.store.close(); // a pgvector store holds a connection (or PGlite) open
  });

common(
  program
    .command('serve')
    .description('serve the interactive page: pick or upload a digit, slide over encoder sizes'),
)
  .option('--host <addr>', 'interface to bind (loopback by default)', '127.0.0.1')
  .option('--port <n>', 'port (0 = any free one)', int('--port', 0), 8080)
  .option(
    '--max-upload-bytes <n>',
    'largest accepted upload',
    int('--max-upload-bytes'),
    2 * 1024 * 1024,
  )
  .action(async (f: CommonFlags & { host: string; port: number; maxUploadBytes: number }) => {
    await backend(f.backend);
    const o = pipelineOptions(f, log);
    // The cache is written under the lock; serving only reads, so the lock goes before it.
    const { p, report } = await withRunDir(o, async () => {
      const p = await prepare(o);
      let report = await savedReport(o, p);
      if (!report) {
        log('measuring the accuracy-vs-compute curve (once; cached in the run directory)…');
        report = await measureReport(o, p);
      }
      return { p, report };
    });
    const server = await startServer(demoState(p, f.k, report), {
      host: f.host,
      port: f.port,
      maxUploadBytes: f.maxUploadBytes,
    });
    console.log(`retrieval demo at ${server.url} (Ctrl-C to stop)`);
    const stop = () => {
      server.close().finally(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program.parseAsync().catch((e: Error) => {
  console.error(`retrieval-demo: ${e.message}`);
  process.exit(1);
});
