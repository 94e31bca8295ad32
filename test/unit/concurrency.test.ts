import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../src/concurrency.js';

describe('mapLimit', () => {
  it('keeps the order of the items and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });

  it('on a failure starts nothing new, and throws only once the tasks under way have ended', async () => {
    const ended: number[] = [];
    const started: number[] = [];
    const run = mapLimit([0, 1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      if (n === 0) throw new Error('first fails');
      await new Promise((r) => setTimeout(r, 20));
      ended.push(n);
    });
    await expect(run).rejects.toThrow('first fails');
    expect(started).toEqual([0, 1]);
    expect(ended).toEqual([1]);
  });
});
