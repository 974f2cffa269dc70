// End-to-end: `--quick` into a temporary directory must produce every table and every figure,
// and a second run must reuse the cached models instead of retraining them.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'matformer-report-'));
const out = join(tmp, 'report');
const runs = join(tmp, 'runs');

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function report(...extra: string[]): Promise<string> {
  const { stderr } = await run(
    process.execPath,
    ['--conditions=@matformer/source', '--import', 'tsx', 'tools/report/index.ts', '--quick', '--out', out, '--runs', runs, ...extra],
    { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, FORCE_COLOR: '0' } },
  );
  return stderr;
}

/**
 * Strict well-formedness check for the SVG we write (no XML parser in the dependencies):
 * balanced tags, one root, quoted unique attributes, no bare '<' or '&'. Returns the problem.
 */
function xmlProblem(text: string): string | undefined {
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
  const bareAmp = (s: string) => s.replace(entity, '').includes('&');
  const body = text.replace(/^\s*<\?xml[^?]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '');
  const stack: string[] = [];
  let roots = 0;
  let at = 0;
  for (const m of body.matchAll(/<[^<>]*>/g)) {
    const between = body.slice(at, m.index);
    if (between.includes('<')) return `unterminated tag near offset ${at}`;
    if (bareAmp(between)) return `unescaped '&' in text near offset ${at}`;
    if (stack.length === 0 && between.trim()) return `text outside the root element: ${between.trim().slice(0, 40)}`;
    at = m.index! + m[0].length;
    const t =
      /^<(\/)?([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_:][\w:.-]*\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/)?>$/.exec(m[0]);
    if (!t) return `malformed tag ${m[0].slice(0, 60)}`;
    const [, close, name, attrs, selfClose] = t;
    const names = [...attrs.matchAll(/([A-Za-z_:][\w:.-]*)\s*=\s*("[^"]*"|'[^']*')/g)];
    if (new Set(names.map((a) => a[1])).size !== names.length) return `duplicate attribute in <${name}>`;
    if (names.some((a) => bareAmp(a[2]))) return `unescaped '&' in an attribute of <${name}>`;
    if (close) {
      if (attrs.trim() || selfClose) return `malformed closing tag </${name}>`;
      if (stack.pop() !== name) return `</${name}> does not close the open element`;
    } else {
      if (stack.length === 0 && ++roots > 1) return 'more than one root element';
      if (!selfClose) stack.push(name);
    }
  }
  if (body.slice(at).includes('<') || body.slice(at).trim()) return 'content after the root element';
  if (stack.length) return `unclosed <${stack[stack.length - 1]}>`;
  if (roots !== 1) return 'no root element';
  return undefined;
}

/** Markdown tables: runs of lines starting with '|'; each as header + data rows (separator dropped). */
function tables(markdown: string): string[][][] {
  const out: string[][][] = [];
  let cur: string[][] | undefined;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('|')) {
      const cells = line.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim());
      if (!cur) out.push((cur = []));
      if (!cells.every((c) => /^:?-+:?$/.test(c))) cur.push(cells);
    } else cur = undefined;
  }
  return out;
}

const FIGURES = [
  'lm-loss-vs-params.svg',
  'lm-consistency-top1.svg',
  'lm-consistency-kl.svg',
  'lm-speculative-acceptance.svg',
  'lm-speculative-speedup.svg',
  'vit-retrieval.svg',
  'lm-training.svg',
  'lm-heldout-vs-tokens.svg',
];

describe('tools/report --quick', () => {
  it('writes README.md with every table, every figure as valid SVG, and results.json; a re-run reuses the models', { timeout: 240_000 }, async () => {
    // The LM family's two seeds train in two child processes, the rest in this one.
    const first = await report('--jobs', '2');
    expect(first).toMatch(/in 2 processes, \d+ thread\(s\) each/);
    for (const seed of [0, 1]) expect(first).toMatch(new RegExp(`\\[seed ${seed}\\]   matlm-s${seed}: training \\d+ steps`));
    expect(first).toMatch(/matvit: training \d+ steps/);

    const readme = readFileSync(join(out, 'README.md'), 'utf8');
    expect(readme).toMatch(/do not edit by hand/i);
    expect(readme).toContain('npm run report -- --quick');
    for (const h of ['## Setup', '## 1.', '## 2.', '## 3.', '## 4.', '## 5.'])
      expect(readme, `section ${h}`).toContain(h);

    // Setup, loss, Mix'n'Match budgets, Pareto front, consistency, speculative (tfjs,
    // onnxruntime's plain export and its decoder graph, the large-model table), retrieval, ViT
    // accuracy, paper side by side, figures.
    const ts = tables(readme);
    expect(ts.length).toBe(13);
    for (const [i, t] of ts.entries()) {
      expect(t.length, `table ${i} has a header and data rows`).toBeGreaterThan(1);
      for (const row of t) {
        expect(row.length, `table ${i}: ragged row ${row.join(' | ')}`).toBe(t[0].length);
        for (const c of row) expect(c, `table ${i}: bad cell in ${row.join(' | ')}`).not.toMatch(/NaN|undefined|Infinity|^$/);
      }
    }

    const linked = [...readme.matchAll(/!\[[^\]]*\]\(([^)]+\.svg)\)/g)].map((m) => m[1]);
    expect(new Set(linked)).toEqual(new Set(FIGURES));
    for (const f of FIGURES) {
      const path = join(out, f);
      expect(existsSync(path), f).toBe(true);
      expect(statSync(path).size, f).toBeGreaterThan(0);
      const svg = readFileSync(path, 'utf8');
      expect(xmlProblem(svg), f).toBeUndefined();
      expect(svg, f).toMatch(/^<svg[\s>]/);
      expect(svg, f).toMatch(/<(path|circle)\s/);
      expect(svg, f).not.toMatch(/NaN|undefined|Infinity/);
    }

    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.settings.mode).toBe('quick');
    expect(results.env.engine).toMatch(/onnxruntime/);
    expect(results.lm.losses).toHaveLength(4);
    // Two seeds per model: every loss comes with its per-seed values, the mean between them.
    for (const l of results.lm.losses) {
      for (const k of ['matformer', 'baseline']) {
        const seeds: number[] = l[`${k}Seeds`];
        expect(seeds).toHaveLength(2);
        expect(l[k]).toBeCloseTo((seeds[0] + seeds[1]) / 2, 10);
      }
    }
    expect(readme).toMatch(/\| seed range \|/);
    expect(results.vit.retrieval.rows).toHaveLength(4);
    // Raw-pixel 1-NN: a real accuracy over the whole split, and a row in both ViT tables.
    expect(results.vit.retrieval.pixels.accuracy).toBeGreaterThan(0.5);
    expect(results.vit.retrieval.pixels.database).toBeGreaterThan(8000); // every training image
    expect(results.vit.retrieval.pixels.queries).toBe(results.settings.retrieval.pixelQueries);
    expect(readme).toContain('| raw pixels (L2) |');
    expect(readme).toContain('| 1-NN, raw pixels (L2) |');
    // Speculative decoding on both engines; greedy must reproduce plain greedy decoding exactly.
    expect(results.lm.speculative.map((s: { engine: string }) => s.engine)).toEqual(['tfjs', 'ort', 'ort-decoder']);
    for (const sp of results.lm.speculative)
      for (const row of sp.rows)
        for (const fam of ['matformer', 'baseline']) expect(row[fam].identical).toBe(sp.prompts.length);
    // The weights-bound model on the decoder graph: float and int8 drafts, greedy and sampling.
    const large = results.lm.speculativeLarge;
    expect(large.rows.map((x: { draft: string; mode: string }) => `${x.draft} ${x.mode}`)).toEqual([
      'MatLM 8 greedy',
      'MatLM 8 int8 greedy',
      'independent 8 int8 greedy',
      'MatLM 8 int8 sample',
      'independent 8 int8 sample',
    ]);
    for (const x of large.rows) {
      if (x.mode === 'greedy') expect(x.identical).toBe(large.prompts);
      expect(x.speedup).toBeGreaterThan(0);
      expect(x.stepTimeBound).toBeGreaterThan(0);
    }

    // Same settings: every model comes from the cache, nothing is retrained (in this process).
    const second = await report('--jobs', '1');
    expect(second).not.toMatch(/training \d+ steps/);
    // Per seed (2): MatLM and 4 baselines; the λ ablation (first seed); MatViT and 4 baselines;
    // the speculative-decoding MatLM and its independent draft.
    expect((second.match(/reusing the finished run/g) ?? []).length).toBe(18);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('| reused |');
  });

  it('xmlProblem rejects malformed SVG', () => {
    expect(xmlProblem('<svg><path d="M0,0"/></svg>')).toBeUndefined();
    expect(xmlProblem('<svg><g></svg>')).toBeDefined();
    expect(xmlProblem('<svg a="1" a="2"/>')).toBeDefined();
    expect(xmlProblem('<svg><text>a & b</text></svg>')).toBeDefined();
    expect(xmlProblem('<svg/><svg/>')).toBeDefined();
    expect(xmlProblem('<svg><text>x < y</text></svg>')).toBeDefined();
  });
});
