import {
  resolveWidths,
  SKIP,
  writeFileAtomic,
  type ModelConfig,
  type Widths,
} from '@matformer/core';
import { formatCsv, parseCsv } from './csv';
import { SliceError } from './errors';
import { existsSync, readFile } from './files';

/**
 * One named submodel, as a row of Google's Gemma 3n MatFormer slicing config (the file
 * mistral.rs loads with `--matformer-config-path` + `--matformer-slice-name`): the FFN hidden
 * width of each KEPT layer in order, and the indices of the skipped layers of the full model.
 */
export interface Slice {
  name: string;
  /** "FFN Hidden Dims": one width per kept layer (length = "# Layers"). */
  ffnHiddenDims: number[];
  /** "Layers Skipped": indices in the full model, ascending. */
  layersSkipped: number[];
  /** "# Effective Params (B)" × 1e9, or the exact "Params" column when present. */
  effectiveParams: number;
  /** "MMLU PT accuracy": Gemma's quality column, kept verbatim (we leave it empty: we measure loss). */
  mmlu?: string;
  /** Our extra columns (mistral.rs ignores columns it does not know). */
  flops?: number;
  loss?: number;
  bitsPerToken?: number;
  accuracy?: number;
}

/** Gemma 3n's columns, spelled exactly as in its CSV and mistral.rs's `CsvRecord`. */
export const GEMMA_COLUMNS = [
  'name',
  '# Layers',
  '# Effective Params (B)',
  'MMLU PT accuracy',
  'FFN Hidden Dims',
  'Layers Skipped',
] as const;
/** Our quality and cost columns, after Gemma's. */
export const EXTRA_COLUMNS = [
  'Params',
  'FLOPs per token',
  'Val loss',
  'Bits per byte',
  'Accuracy',
] as const;

/** A slice for per-layer widths (0 = skipped layer). */
export function sliceFromWidths(
  name: string,
  widths: Widths,
  extra: {
    params: number;
    flops?: number;
    loss?: number;
    bitsPerToken?: number;
    accuracy?: number;
  },
): Slice {
  return {
    name,
    ffnHiddenDims: widths.filter((m) => m !== SKIP),
    layersSkipped: widths.flatMap((m, l) => (m === SKIP ? [l] : [])),
    effectiveParams: extra.params,
    ...defined({
      flops: extra.flops,
      loss: extra.loss,
      bitsPerToken: extra.bitsPerToken,
      accuracy: extra.accuracy,
    }),
  };
}

/** The per-layer widths a slice names, with 0 at each skipped layer (length = kept + skipped). */
export function sliceWidths(slice: Slice): Widths {
  const L = slice.ffnHiddenDims.length + slice.layersSkipped.length;
  const skipped = new Set(slice.layersSkipped);
  const dims = [...slice.ffnHiddenDims];
  return Array.from({ length: L }, (_, l) => (skipped.has(l) ? SKIP : dims.shift()!));
}

// ---- parsing ----

/** "2_048 * 4" → 8192, "512" → 512 (the expressions Gemma's file uses). */
function dimValue(expr: string, where: string): number {
  const factors = expr.split('*').map((f) => f.trim().replace(/_/g, ''));
  if (factors.length > 2 || factors.some((f) => !/^\d+$/.test(f)))
    throw new SliceError(`${where}: "${expr.trim()}" is not a width (a number or "a * b")`);
  return factors.reduce((p, f) => p * Number(f), 1);
}

/** "[a, b, …]" (or an array, in JSON) → numbers; "" or absent → []. */
function intList(v: unknown, where: string, parse: (s: string) => number): number[] {
  if (v === undefined || v === null || v === '') return [];
  if (Array.isArray(v)) return v.map((x) => parse(String(x)));
  const s = String(v).trim();
  if (!s.startsWith('[') || !s.endsWith(']'))
    throw new SliceError(`${where} must be a bracketed list like [512, 1024], got "${s}"`);
  const inner = s.slice(1, -1).trim();
  return inner ? inner.split(',').map(parse) : [];
}

function optionalNumber(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** One row (column name → value) as a Slice, checked; `where` names file and row for errors. */
function rowToSlice(row: Record<string, unknown>, where: string): Slice {
  const name = String(row['name'] ?? '').trim();
  if (!name) throw new SliceError(`${where}: the "name" column is empty`);
  const at = `${where} ("${name}")`;
  const dims = intList(row['FFN Hidden Dims'], `${at} FFN Hidden Dims`, (s) =>
    dimValue(s, `${at} FFN Hidden Dims`),
  );
  const skipped = intList(row['Layers Skipped'], `${at} Layers Skipped`, (s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < 0)
      throw new SliceError(`${at}: layer "${s.trim()}" in Layers Skipped is not a layer index`);
    return n;
  });
  if (!dims.length) throw new SliceError(`${at}: FFN Hidden Dims lists no layer`);
  if (dims.some((d) => d <= 0))
    throw new SliceError(
      `${at}: FFN Hidden Dims must be positive widths; skip a layer with Layers Skipped`,
    );
  const nLayers = optionalNumber(row['# Layers']);
  if (nLayers !== undefined && nLayers !== dims.length)
    throw new SliceError(
      `${at}: # Layers is ${nLayers} but FFN Hidden Dims lists ${dims.length} kept layers`,
    );
  const L = dims.length + skipped.length;
  if (new Set(skipped).size !== skipped.length || skipped.some((l) => l >= L))
    throw new SliceError(
      `${at}: Layers Skipped [${skipped.join(', ')}] must be distinct indices below ${L} (kept + skipped layers)`,
    );
  const exact = optionalNumber(row['Params']);
  const billions = optionalNumber(row['# Effective Params (B)']);
  const mmlu = row['MMLU PT accuracy'];
  return {
    name,
    ffnHiddenDims: dims,
    layersSkipped: [...skipped].sort((a, b) => a - b),
    effectiveParams: exact ?? Math.round((billions ?? 0) * 1e9),
    ...(mmlu !== undefined && mmlu !== '' ? { mmlu: String(mmlu) } : {}),
    ...defined({
      flops: optionalNumber(row['FLOPs per token']),
      loss: optionalNumber(row['Val loss']),
      bitsPerToken: optionalNumber(row['Bits per byte']),
      accuracy: optionalNumber(row['Accuracy']),
    }),
  };
}

const defined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/** Slices from CSV text with Gemma 3n's header (extra columns allowed, in any order). */
export function parseSlicesCsv(text: string, source = 'slices.csv'): Slice[] {
  const [header, ...rows] = parseCsv(text.replace(/^\uFEFF/, ''));
  if (!header) throw new SliceError(`${source} is empty`);
  const cols = header.map((h) => h.trim());
  const missing = ['name', 'FFN Hidden Dims'].filter((c) => !cols.includes(c));
  if (missing.length)
    throw new SliceError(
      `${source} lacks the column(s) ${missing.map((c) => `"${c}"`).join(', ')}; expected the header ${GEMMA_COLUMNS.join(',')}`,
    );
  return checkNames(
    rows.map((r, i) =>
      rowToSlice(Object.fromEntries(cols.map((c, j) => [c, r[j] ?? ''])), `${source} row ${i + 2}`),
    ),
    source,
  );
}

/** Slices from JSON: an array of rows keyed by the CSV's column names (or `{ slices: [...] }`). */
export function parseSlicesJson(text: string, source = 'slices.json'): Slice[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new SliceError(`${source} is not valid JSON`);
  }
  const rows = Array.isArray(data) ? data : (data as { slices?: unknown })?.slices;
  if (!Array.isArray(rows))
    throw new SliceError(`${source} must hold an array of slice rows (or { "slices": [...] })`);
  return checkNames(
    rows.map((r, i) => rowToSlice(r as Record<string, unknown>, `${source} entry ${i}`)),
    source,
  );
}

function checkNames(slices: Slice[], source: string): Slice[] {
  const seen = new Set<string>();
  for (const s of slices) {
    if (seen.has(s.name)) throw new SliceError(`${source} names the slice "${s.name}" twice`);
    seen.add(s.name);
  }
  return slices;
}

// ---- writing ----

const billions = (n: number) => String(+(n / 1e9).toPrecision(6));
const num = (n: number | undefined, digits?: number) =>
  n === undefined ? '' : digits === undefined ? String(n) : n.toFixed(digits);

function sliceRow(s: Slice): Record<string, string | number[]> {
  return {
    name: s.name,
    '# Layers': String(s.ffnHiddenDims.length),
    '# Effective Params (B)': billions(s.effectiveParams),
    'MMLU PT accuracy': s.mmlu ?? '',
    'FFN Hidden Dims': s.ffnHiddenDims,
    'Layers Skipped': s.layersSkipped,
    Params: String(s.effectiveParams),
    'FLOPs per token': num(s.flops),
    'Val loss': num(s.loss, 6),
    'Bits per byte': num(s.bitsPerToken, 6),
    Accuracy: num(s.accuracy, 6),
  };
}

/** CSV in Gemma 3n's layout (its six columns first, ours after); an empty Layers Skipped when none. */
export function slicesToCsv(slices: Slice[]): string {
  const cols = [...GEMMA_COLUMNS, ...EXTRA_COLUMNS];
  const list = (v: number[]) => `[${v.join(', ')}]`;
  return formatCsv([
    [...cols],
    ...slices.map((s) => {
      const row = sliceRow(s);
      return cols.map((c) => {
        const v = row[c];
        if (c === 'Layers Skipped') return (v as number[]).length ? list(v as number[]) : '';
        return Array.isArray(v) ? list(v) : v;
      });
    }),
  ]);
}

/** JSON: an array of rows keyed by the CSV's column names, lists as arrays. */
export function slicesToJson(slices: Slice[]): string {
  return JSON.stringify(slices.map(sliceRow), null, 2) + '\n';
}

const isJson = (path: string, text?: string) =>
  /\.json$/i.test(path) || (!/\.csv$/i.test(path) && /^\s*[[{]/.test(text ?? ''));

/** Writes slices as CSV or JSON (by the file's extension), atomically. */
export async function writeSliceFile(path: string, slices: Slice[]): Promise<void> {
  await writeFileAtomic(path, isJson(path) ? slicesToJson(slices) : slicesToCsv(slices));
}

/** Reads a slice file: JSON for .json, CSV for .csv (else sniffed from the content). */
export async function readSliceFile(path: string): Promise<Slice[]> {
  if (!existsSync(path)) throw new SliceError(`slice file ${path} does not exist`);
  const text = await readFile(path, 'utf8');
  return isJson(path, text) ? parseSlicesJson(text, path) : parseSlicesCsv(text, path);
}

/**
 * The per-layer widths (0 = skipped) of the slice `name` in a slice file (a path, or slices
 * already read). With a model config, the widths are also checked against it.
 */
export async function resolveSlice(
  file: string | Slice[],
  name: string,
  config?: ModelConfig,
): Promise<Widths> {
  const slices = typeof file === 'string' ? await readSliceFile(file) : file;
  const where = typeof file === 'string' ? file : 'the slice list';
  const slice = slices.find((s) => s.name === name);
  if (!slice) {
    throw new SliceError(
      `no slice named "${name}" in ${where}; it has: ${slices.map((s) => `"${s.name}"`).join(', ') || 'none'}`,
    );
  }
  const widths = sliceWidths(slice);
  if (config) {
    if (widths.length !== config.nLayers)
      throw new SliceError(
        `slice "${name}" describes ${widths.length} layers (${slice.ffnHiddenDims.length} kept + ${slice.layersSkipped.length} skipped), the model has ${config.nLayers}`,
      );
    try {
      resolveWidths(config, widths);
    } catch (e) {
      throw new SliceError(
        `slice "${name}" in ${where} does not fit the model: ${(e as Error).message}`,
      );
    }
  }
  return widths;
}

/**
 * For CLIs: `--slices FILE --slice NAME` → widths, or undefined when neither is given.
 * One without the other is an error, as is a name the file lacks.
 */
export async function widthsFromSliceArgs(
  args: { slices?: string; slice?: string },
  config?: ModelConfig,
): Promise<Widths | undefined> {
  const { slices, slice } = args;
  if (slices === undefined && slice === undefined) return undefined;
  if (slices === undefined)
    throw new SliceError(`--slice "${slice}" needs --slices FILE (a slice file, CSV or JSON)`);
  if (slice === undefined)
    throw new SliceError(`--slices ${slices} needs --slice NAME (which slice of the file to use)`);
  return resolveSlice(slices, slice, config);
}
