import { defineConfig } from 'vitest/config';

// One vitest run over every package and app; workspace packages resolve to their
// TypeScript sources through the "@matformer/source" export condition, so tests need no build.
export default defineConfig({
  resolve: { conditions: ['@matformer/source'] },
  ssr: { resolve: { conditions: ['@matformer/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'tools/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
