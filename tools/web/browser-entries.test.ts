import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleForBrowser, formatNodeImports } from '../../packages/train/src/web-test/bundle';
import { BROWSER_ENTRIES, PAGE_EXTERNALS } from './entries';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('browser entry points bundle for a browser with no Node builtin', () => {
  for (const entry of BROWSER_ENTRIES) {
    it(`${entry.name} (${entry.source})`, async () => {
      const b = await bundleForBrowser(join(root, entry.source), { external: PAGE_EXTERNALS });
      // On failure the message lists each offending import with the chain that reaches it.
      expect(b.nodeImports, `Node-only imports:\n${formatNodeImports(b.nodeImports)}`).toEqual([]);
      expect(b.code.length).toBeGreaterThan(1000);
    });
  }

  // The published files, resolved as a consumer's bundler resolves them (no source condition):
  // the package.json "browser" conditions must lead to browser builds all the way down.
  for (const entry of BROWSER_ENTRIES) {
    const built = existsSync(join(root, entry.dist));
    it.skipIf(!built)(
      `${entry.name} as built (${entry.dist}; run npm run build first)`,
      async () => {
        const b = await bundleForBrowser(join(root, entry.dist), {
          external: PAGE_EXTERNALS,
          source: false,
        });
        expect(b.nodeImports, `Node-only imports:\n${formatNodeImports(b.nodeImports)}`).toEqual(
          [],
        );
      },
    );
  }

  it('@matformer/core/onnx picks onnxruntime-web there, never onnxruntime-node', async () => {
    const b = await bundleForBrowser(join(root, 'packages/core/src/onnx/browser.ts'), {
      external: PAGE_EXTERNALS,
    });
    const imported = Object.values(b.metafile.inputs).flatMap((i) => i.imports.map((m) => m.path));
    expect(imported).toContain('onnxruntime-web/wasm');
    expect(imported.some((p) => p.includes('ort.node'))).toBe(false);
    expect(imported.some((p) => p.endsWith('ort.web.ts'))).toBe(true);
  });

  it('the check finds a Node builtin and names the chain that imports it (a Node entry)', async () => {
    const b = await bundleForBrowser(join(root, 'packages/core/src/index.ts'), {
      external: PAGE_EXTERNALS,
    });
    const found = b.nodeImports.filter((f) => f.chain.at(-1)!.endsWith('core/src/io/dir-lock.ts'));
    expect(found.map((f) => f.builtin)).toContain('node:fs');
    expect(found[0].chain[0]).toMatch(/core\/src\/index\.ts$/);
    expect(formatNodeImports(found)).toMatch(/^node:\S+ <- \S+dir-lock\.ts <- \S+index\.ts$/m);
    // A Node-only package counts too: core's Node runtime loads onnxruntime-node.
    const node = await bundleForBrowser(join(root, 'packages/core/src/onnx/ort.node.ts'));
    expect(node.nodeImports.map((f) => f.builtin).sort()).toEqual(['node:os', 'onnxruntime-node']);
  });
});
