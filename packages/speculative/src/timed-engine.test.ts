import { describe, expect, it } from 'vitest';
import { generate } from './generate';
import { TableEngine } from './test-engines';
import { TimedEngine } from './timed-engine';

describe('TimedEngine', () => {
  it('passes calls through unchanged and adds up the time spent in them', async () => {
    const inner = new TableEngine(16, 32, { seed: 3 });
    const timed = new TimedEngine(inner);
    const plain = await generate(inner, [1, 2, 3], { maxNewTokens: 8 });
    const wrapped = await generate(timed, [1, 2, 3], { maxNewTokens: 8 });
    expect(wrapped.tokens).toEqual(plain.tokens);
    expect(timed.name).toBe(inner.name);
    expect(timed.forwardMs).toBeGreaterThan(0);
    timed.reset();
    expect(timed.forwardMs).toBe(0);
    expect(timed.otherMs).toBe(0);
  });
});
