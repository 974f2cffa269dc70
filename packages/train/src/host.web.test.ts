import { describe, expect, it } from 'vitest';
import { ConfigError, type AnyModel } from '@matformer/core';
import * as web from './host.web';

// The Trainer's browser host (host.web.ts), checked under Node: what a page cannot do is
// refused with an error that says what to do instead.
describe('the Trainer host of a page', () => {
  it('has no run directory: each file operation names the directory and the way out', async () => {
    expect(() => web.runPath('runs/a', 'checkpoint')).toThrow(ConfigError);
    expect(() => web.runPath('runs/a', 'checkpoint')).toThrow(/"runs\/a".*leave runDir unset/);
    await expect(web.writeRunConfig('runs/a', {})).rejects.toThrow(/no file system/);
    await expect(web.appendMetric('runs/a', {})).rejects.toThrow(/no file system/);
    await expect(web.truncateMetrics('runs/a', 3)).rejects.toThrow(/no file system/);
  });

  it('starts no worker thread, and says to leave parallel unset', async () => {
    expect(web.WORKER_THREADS).toBe(false);
    await expect(web.DataParallelGradients.start({} as AnyModel)).rejects.toThrow(
      /leave parallel unset/,
    );
  });

  it('counts the cores the navigator reports (at least 1)', () => {
    expect(web.availableParallelism()).toBeGreaterThanOrEqual(1);
  });
});
