// A bounded load test of the retrieval demo's server (not CI; prints a table). It starts the
// server in a child process on 127.0.0.1 with the tiny test fixture (no training), then runs
// two phases with the same number of normal queries from `--clients` concurrent clients:
//   clean  — held-out digit queries only (GET /api/query?test=i);
//   bombs  — the same queries with every 4th request an oversized-JPEG upload (~600 bytes
//            claiming 7000×7000 pixels: 25% of requests).
// Each phase stops at `--limit-s` seconds whatever is left. Printed: p50/p95 latency and
// throughput of the normal queries in each phase, the bombs' own latency and statuses, and the
// target check: with bombs, normal-query p95 within 2× of the clean run.
//
//   npx tsx --conditions=@matformer/source tools/load-demo.ts [--queries 300] [--clients 8]
//        [--limit-s 60]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { percentile } from '@matformer/core';

const { values: args } = parseArgs({
  options: {
    queries: { type: 'string', default: '300' },
    clients: { type: 'string', default: '8' },
    'limit-s': { type: 'string', default: '60' },
    serve: { type: 'boolean', default: false },
  },
});

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
  const nQueries = Number(args.queries);
  const clients = Number(args.clients);
  const limitMs = Number(args['limit-s']) * 1000;
  const { jpegClaiming } = await import('../apps/retrieval-demo/src/test-images');
  const bomb = new Uint8Array(jpegClaiming(7000, 7000));

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
    const normal = (i: number) => () => fetch(new URL(`/api/query?test=${i % heldOut}`, url));
    const upload = () =>
      fetch(new URL('/api/query', url), {
        method: 'POST',
        headers: { 'content-type': 'image/jpeg' },
        body: new Blob([bomb]),
      });

    // Warm-up: first queries compile the wasm kernels; the first upload starts the decoder.
    for (let i = 0; i < 200; i++) await (await normal(i)()).arrayBuffer();
    await (await upload()).arrayBuffer();

    const clean = await phase(
      Array.from({ length: nQueries }, (_, i) => ({ kind: 'normal' as const, send: normal(i) })),
      clients,
      limitMs,
    );
    const mixed: Job[] = [];
    for (let i = 0; i < nQueries; i++) {
      mixed.push({ kind: 'normal', send: normal(i) });
      if (i % 3 === 2) mixed.push({ kind: 'bomb', send: upload }); // 1 in 4 requests
    }
    const withBombs = await phase(mixed, clients, limitMs);

    const row = (name: string, r: PhaseResult) => {
      const ms = r.normal.map((x) => x.ms);
      return `${name.padEnd(22)}${String(ms.length).padStart(6)}${fmt(percentile(ms, 50))}${fmt(percentile(ms, 95))}${(ms.length / (r.wallMs / 1000)).toFixed(1).padStart(12)}${r.timedOut ? '  (time limit hit)' : ''}`;
    };
    const lines = [
      `retrieval-demo load test: ${url}, ${clients} concurrent clients, ${nQueries} normal queries per phase, limit ${args['limit-s']} s per phase`,
      '',
      `${'phase'.padEnd(22)}${'normal'.padStart(6)}${'p50 ms'.padStart(10)}${'p95 ms'.padStart(10)}${'queries/s'.padStart(12)}`,
      row('clean', clean),
      row('25% oversized JPEGs', withBombs),
    ];
    const bombs = withBombs.other.map((x) => x.ms);
    const statuses = [...new Set(withBombs.other.map((x) => x.status))].join(', ');
    const bad = [...clean.normal, ...withBombs.normal].filter((x) => x.status !== 200).length;
    lines.push(
      '',
      `bomb uploads: ${bombs.length}, status ${statuses}, p50 ${percentile(bombs, 50).toFixed(1)} ms, p95 ${percentile(bombs, 95).toFixed(1)} ms`,
      `normal queries that failed: ${bad}`,
    );
    const ratio =
      percentile(
        withBombs.normal.map((x) => x.ms),
        95,
      ) /
      percentile(
        clean.normal.map((x) => x.ms),
        95,
      );
    lines.push(
      `target (p95 with bombs ≤ 2× clean): ${ratio.toFixed(2)}× — ${ratio <= 2 && bad === 0 ? 'met' : 'NOT met'}`,
    );
    console.log(lines.join('\n'));
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
  }
  process.exit(0);
}

interface Job {
  kind: 'normal' | 'bomb';
  send: () => Promise<Response>;
}
interface Sample {
  ms: number;
  status: number;
}
interface PhaseResult {
  normal: Sample[];
  other: Sample[];
  wallMs: number;
  timedOut: boolean;
}

/** Runs the jobs in order from `clients` closed-loop clients, until done or the time limit. */
async function phase(jobs: Job[], clients: number, limitMs: number): Promise<PhaseResult> {
  const result: PhaseResult = { normal: [], other: [], wallMs: 0, timedOut: false };
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
      const s = { ms: performance.now() - start, status };
      (job.kind === 'normal' ? result.normal : result.other).push(s);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  result.wallMs = performance.now() - t0;
  return result;
}

function fmt(ms: number): string {
  return ms.toFixed(1).padStart(10);
}
