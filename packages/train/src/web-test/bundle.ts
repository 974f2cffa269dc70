// Bundles a module for the browser with esbuild, as a page's bundler would, and finds every Node
// builtin it reaches. Node-only test utility: the browser entries never import it.
import { builtinModules } from 'node:module';
import { build, type Metafile, type Plugin } from 'esbuild';

/** Node's builtins by every name an import may use: 'fs', 'node:fs', 'fs/promises', ... */
const NODE_BUILTINS = new Set([
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
  // Builtins only reachable with the prefix (node:test, node:sqlite, ...).
  'node:test',
  'node:sqlite',
  'node:sea',
]);

export const isNodeBuiltin = (spec: string): boolean =>
  NODE_BUILTINS.has(spec) || spec.startsWith('node:');

/** Packages that only run under Node (native addons): a browser entry must not import them. */
export const NODE_ONLY_PACKAGES = [
  'onnxruntime-node',
  'hnswlib-node',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
];
const isNodeOnly = (spec: string): boolean =>
  isNodeBuiltin(spec) || NODE_ONLY_PACKAGES.some((p) => spec === p || spec.startsWith(`${p}/`));

/** One import of a Node builtin (or Node-only package), with the chain of modules that led to it from the entry. */
export interface NodeImport {
  builtin: string;
  /** Entry first, the importing module last (paths relative to the working directory). */
  chain: string[];
}

export interface BrowserBundleOptions {
  /** Packages left to the page's bundler (not bundled), e.g. ['onnxruntime-web']. */
  external?: string[];
  /** Minify (for size reports). Default false. */
  minify?: boolean;
  /** Resolve workspace packages to their TypeScript sources (default true). */
  source?: boolean;
  /** Build-time constants, e.g. { 'process.env.NODE_ENV': '"production"' }. */
  define?: Record<string, string>;
}

export interface BrowserBundle {
  /** The bundled ESM text. */
  code: string;
  /** Node builtins and Node-only packages the bundle imports, each with its import chain. */
  nodeImports: NodeImport[];
  metafile: Metafile;
}

// A Node-only package, or a builtin the browser build cannot resolve (no `browser` field maps it to
// false or to a polyfill) is marked external, so the build succeeds and esbuild's metafile lists
// it among the importer's imports, where nodeImportChains finds it.
const RESOLVING = Symbol('resolving');
const recordBuiltins = (): Plugin => ({
  name: 'record-node-builtins',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[@a-z_/-]+$/ }, async (args) => {
      if (!isNodeOnly(args.path) || args.pluginData === RESOLVING) return undefined;
      if (!isNodeBuiltin(args.path)) return { path: args.path, external: true };
      const r = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: RESOLVING,
      });
      // Resolved (e.g. to an empty module): leave it to esbuild's own resolution.
      return r.errors.length === 0 ? undefined : { path: args.path, external: true };
    });
  },
});

/** Bundles `entry` (a file path) for a browser (platform 'browser', format esm). */
export async function bundleForBrowser(
  entry: string,
  o: BrowserBundleOptions = {},
): Promise<BrowserBundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    // 'browser' is listed explicitly: custom conditions replace esbuild's defaults.
    conditions: [...(o.source === false ? [] : ['@matformer/source']), 'browser'],
    mainFields: ['browser', 'module', 'main'],
    external: o.external ?? [],
    minify: o.minify ?? false,
    define: o.define,
    metafile: true,
    logLevel: 'silent',
    plugins: [recordBuiltins()],
  });
  return {
    code: result.outputFiles[0].text,
    nodeImports: nodeImportChains(result.metafile, entry),
    metafile: result.metafile,
  };
}

/** Every import of a Node builtin in the metafile, with the shortest chain from the entry to it. */
export function nodeImportChains(meta: Metafile, entry: string): NodeImport[] {
  const inputs = meta.inputs;
  const start = Object.keys(inputs).find((p) => entry.endsWith(p.replace(/^(\.\.\/)+/, '')));
  if (!start) return [];
  // Breadth-first from the entry: the first path found to each module is a shortest one.
  const parent = new Map<string, string | undefined>([[start, undefined]]);
  const queue = [start];
  const found: NodeImport[] = [];
  const chainTo = (m: string): string[] => {
    const chain: string[] = [];
    for (let p: string | undefined = m; p !== undefined; p = parent.get(p)) chain.unshift(p);
    return chain;
  };
  while (queue.length > 0) {
    const m = queue.shift()!;
    for (const imp of inputs[m]?.imports ?? []) {
      if (imp.external && isNodeOnly(imp.path)) {
        found.push({ builtin: imp.path, chain: chainTo(m) });
      } else if (!imp.external && !parent.has(imp.path)) {
        parent.set(imp.path, m);
        queue.push(imp.path);
      }
    }
  }
  return found;
}

/** A readable list of the chains, one line each: "node:fs <- a.ts <- b.ts <- entry.ts". */
export const formatNodeImports = (found: NodeImport[]): string =>
  found.map((f) => `${f.builtin} <- ${[...f.chain].reverse().join(' <- ')}`).join('\n');
