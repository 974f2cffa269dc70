// A bounded load test of the retrieval demo's server (not CI; prints a table). It starts the
// server in a child process on 127.0.0.1 with the tiny test fixture (no training), then runs
// phases with the same valid requests from `--clients` concurrent clients, half of them
// held-out digit queries (GET /api/query?test=i), half valid PNG uploads (a 256×256 drawing):
//   clean        — the valid requests only;
//   jpeg bombs   — the same with every 4th request an oversized-JPEG upload (~600 bytes
//                  claiming 7000×7000 pixels: 25% of requests);
//   png bombs    — the same with every 4th request a ~100-byte PNG whose second IHDR claims
//                  5000×5000 (a first IHDR of 2×2 passes a header check that reads only it).
// `--bombs jpeg,png` picks the bomb phases (default both). `--rounds` (3) runs every phase
// that many times, the order rotated each round, and pools the samples. Each phase stops at
// `--limit-s` seconds whatever is left. Printed: p50/p95 latency (of the 200 answers),
// throughput and 503s of the queries and of the valid uploads in each phase, the bombs' own
// latency and statuses, and the targets: with bombs, valid uploads' 503 rate and p95 within
// 1.2× of the clean phase's, and queries' p95 within 2×.
//
//   npx tsx --conditions=@matformer/source tools/load-demo.ts [--queries 300] [--clients 8]
//        [--limit-s 60] [--bombs jpeg,png] [--rounds 3]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { percentile } from '@matformer/core';

const { values: args } = parseArgs({
  options: {
    queries: { type: 'string', default: '300' },
    clients: { type: 'string', default: '8' },
    'limit-s': { type: 'string', default: '60' },
    bombs: { type: 'string', default: 'jpeg,png' },
    rounds: { type: 'string', default: '3' },
    serve: { type: 'boolean', default: false },
  },
});

type Kind = 'query' | 'upload' | 'bomb';
const BOMB_KINDS = ['jpeg', 'png'] as const;
type BombKind = (typeof BOMB_KINDS)[number];

if (args.serve) {
  // Child role: the demo server around the tiny fixture, its URL on stdout.
  const { quickDemoState } = await import('../apps/retrieval-demo/src/test-fixtures');
  const { startServer } = await import('../apps/retrieval-demo/src/server');
  const { state } = await quickDemoState();
  const server = await startServer(state, { host: '127.0.0.1', port: 0 });
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
} else {
  await main();
}

async function main(): Promise<void> {
  const nValid = Number(args.queries);
  const clients = Number(args.clients);
  const limitMs = Number(args['limit-s']) * 1000;
  const rounds = Number(args.rounds);
  const bombKinds = args.bombs.split(',').map((b) => b.trim()) as BombKind[];
  for (const b of bombKinds)
    if (!BOMB_KINDS.includes(b))
      throw new Error(`--bombs takes ${BOMB_KINDS.join(', ')} (comma-separated), got "${b}"`);
  const { jpegClaiming, pngWithSecondIhdr } =
    await import('../apps/retrieval-demo/src/test-images');
  const { grayToPng } = await import('../apps/retrieval-demo/src/png');
  const bombBytes: Record<BombKind, [type: string, bytes: Uint8Array]> = {
    jpeg: ['image/jpeg', new Uint8Array(jpegClaiming(7000, 7000))],
    png: ['image/png', new Uint8Array(pngWithSecondIhdr(5000, 5000))],
  };
  const drawing = new Uint8Array(grayToPng(ring(256), 256, 256));

  const child = spawn(
    'npx',
    ['tsx', '--conditions=@matformer/source', new URL(import.meta.url).pathname, '--serve'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, MATFORMER_BACKEND: 'wasm' },
      detached: true, // its own process group: npx, tsx and the server stop together
    },
  );
  try {
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (l) => {
        if (l.startsWith('{')) resolve((JSON.parse(l) as { url: string }).url);
      });
      child.once('exit', (code) => reject(new Error(`server exited with code ${code}`)));
    });
    if (new URL(url).hostname !== '127.0.0.1') throw new Error(`refusing to load ${url}`);
    const heldOut = 100; // the fixture's held-out digits
    const post = (type: string, bytes: Uint8Array) => () =>
      fetch(new URL('/api/query', url), {
        method: 'POST',
        headers: { 'content-type': type },
        body: new Blob([bytes]),
      });
    const valid = (i: number): Job =>
      i % 2
        ? { kind: 'upload', send: post('image/png', drawing) }
        : {
            kind: 'query',
            send: () => fetch(new URL(`/api/query?test=${(i >> 1) % heldOut}`, url)),
          };

    // Warm-up: first queries compile the wasm kernels; the first upload starts the decoder.
    for (let i = 0; i < 200; i++) await (await valid(i).send()).arrayBuffer();
    for (const b of bombKinds) await (await post(...bombBytes[b])()).arrayBuffer();

    // Rounds of every phase, the order rotated each round, so that the load other processes
    // put on the machine meanwhile falls on every phase alike; samples are pooled per phase.
    const jobsOf = (b?: BombKind): Job[] => {
      const jobs: Job[] = [];
      for (let i = 0; i < nValid; i++) {
        jobs.push(valid(i));
        if (b && i % 3 === 2) jobs.push({ kind: 'bomb', send: post(...bombBytes[b]) }); // 1 in 4
      }
      return jobs;
    };
    const kinds: (BombKind | undefined)[] = [undefined, ...bombKinds];
    const pooled = new Map<string, PhaseResult>();
    for (let round = 0; round < rounds; round++)
      for (let k = 0; k < kinds.length; k++) {
        const b = kinds[(k + round) % kinds.length];
        const name = b ? `25% ${b} bombs` : 'clean';
        pooled.set(name, merge(pooled.get(name), await phase(jobsOf(b), clients, limitMs)));
      }
    const phases = kinds.map((b): [string, PhaseResult] => {
      const name = b ? `25% ${b} bombs` : 'clean';
      return [name, pooled.get(name)!];
    });
    console.log(
      report(
        phases,
        `${url}, ${clients} concurrent clients, ${rounds} rounds of ${nValid} valid requests per phase (half queries, half PNG uploads), limit ${args['limit-s']} s per phase`,
      ),
    );
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
  }
  process.exit(0);
}

/** A 256×256 drawing: a light ring on dark ground, like a digit 0 (a few KB as PNG). */
function ring(size: number): Float32Array {
  const px = new Float32Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const r = Math.hypot(x - size / 2, y - size / 2) / (size / 2);
      px[y * size + x] = r > 0.5 && r < 0.7 ? 1 : 0;
    }
  return px;
}

/** Latencies of the answered (200) requests: a 503 is fast, and would flatter a percentile. */
function ms(xs: Sample[]): number[] {
  return xs.filter((x) => x.status === 200).map((x) => x.ms);
}
function count503(xs: Sample[]): number {
  return xs.filter((x) => x.status === 503).length;
}
function rate(n: number, of: number): number {
  return of ? n / of : 0;
}

/** The table and the target checks: every bomb phase against the clean one. */
function report(phases: [string, PhaseResult][], title: string): string {
  const lines = [
    `retrieval-demo load test: ${title}`,
    '',
    `${'phase'.padEnd(18)}${'requests'.padEnd(9)}${'n'.padStart(6)}${'p50 ms'.padStart(10)}${'p95 ms'.padStart(10)}${'per s'.padStart(8)}${'503s'.padStart(6)}`,
  ];
  for (const [name, r] of phases)
    for (const kind of ['query', 'upload'] as const) {
      const xs = r.samples[kind];
      lines.push(
        `${(kind === 'query' ? name : '').padEnd(18)}${(kind === 'query' ? 'queries' : 'uploads').padEnd(9)}${String(xs.length).padStart(6)}${fmt(percentile(ms(xs), 50))}${fmt(percentile(ms(xs), 95))}${(xs.length / (r.wallMs / 1000)).toFixed(1).padStart(8)}${String(count503(xs)).padStart(6)}${r.timedOut && kind === 'upload' ? '  (time limit hit)' : ''}`,
      );
    }
  const [, clean] = phases[0];
  const cleanUpP95 = percentile(ms(clean.samples.upload), 95);
  const cleanQueryP95 = percentile(ms(clean.samples.query), 95);
  const clean503 = rate(count503(clean.samples.upload), clean.samples.upload.length);
  const failed = (r: PhaseResult) =>
    [...r.samples.query, ...r.samples.upload].filter((x) => x.status !== 200 && x.status !== 503)
      .length;
  lines.push(
    '',
    `clean baseline: upload p95 ${cleanUpP95.toFixed(1)} ms, query p95 ${cleanQueryP95.toFixed(1)} ms, valid uploads 503 ${(100 * clean503).toFixed(1)}%`,
  );
  for (const [name, r] of phases.slice(1)) {
    const bombs = r.samples.bomb.map((x) => x.ms);
    const statuses = [...new Set(r.samples.bomb.map((x) => x.status))].join(', ');
    const up = r.samples.upload;
    const up503 = rate(count503(up), up.length);
    const upRatio = percentile(ms(up), 95) / cleanUpP95;
    const qRatio = percentile(ms(r.samples.query), 95) / cleanQueryP95;
    const met =
      up503 <= 1.2 * clean503 &&
      upRatio <= 1.2 &&
      qRatio <= 2 &&
      failed(r) === 0 &&
      count503(r.samples.query) === 0;
    lines.push(
      `${name}: ${bombs.length} bombs, status ${statuses}, p50 ${percentile(bombs, 50).toFixed(1)} ms, p95 ${percentile(bombs, 95).toFixed(1)} ms`,
      `  valid uploads 503: ${(100 * up503).toFixed(1)}% (clean ${(100 * clean503).toFixed(1)}%); upload p95 ${upRatio.toFixed(2)}× clean; query p95 ${qRatio.toFixed(2)}× clean; other failures ${failed(r)}`,
      `  target (upload 503 rate and p95 ≤ 1.2× clean, query p95 ≤ 2×, no other failures): ${met ? 'met' : 'NOT met'}`,
    );
  }
  lines.push(`clean: other failures ${failed(clean)}`);
  return lines.join('\n');
}

interface Job {
  kind: Kind;
  send: () => Promise<Response>;
}
interface Sample {
  ms: number;
  status: number;
}
interface PhaseResult {
  samples: Record<Kind, Sample[]>;
  wallMs: number;
  timedOut: boolean;
}

/** Two runs of a phase as one: samples pooled, wall times summed. */
function merge(a: PhaseResult | undefined, b: PhaseResult): PhaseResult {
  if (!a) return b;
  const samples = { ...a.samples };
  for (const k of Object.keys(samples) as Kind[]) samples[k] = [...a.samples[k], ...b.samples[k]];
  return { samples, wallMs: a.wallMs + b.wallMs, timedOut: a.timedOut || b.timedOut };
}

/** Runs the jobs in order from `clients` closed-loop clients, until done or the time limit. */
async function phase(jobs: Job[], clients: number, limitMs: number): Promise<PhaseResult> {
  const result: PhaseResult = {
    samples: { query: [], upload: [], bomb: [] },
    wallMs: 0,
    timedOut: false,
  };
  const t0 = performance.now();
  let next = 0;
  const client = async () => {
    while (next < jobs.length) {
      if (performance.now() - t0 > limitMs) {
        result.timedOut = true;
        return;
      }
      const job = jobs[next++];
      const start = performance.now();
      let status = 0;
      try {
        const r = await job.send();
        await r.arrayBuffer();
        status = r.status;
      } catch {
        status = -1;
      }
      result.samples[job.kind].push({ ms: performance.now() - start, status });
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  result.wallMs = performance.now() - t0;
  return result;
}

function fmt(ms: number): string {
  return ms.toFixed(1).padStart(10);
}
