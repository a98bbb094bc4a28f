import { describe, expect, it } from 'vitest';
import { PixelPool } from '../../../src/worker/pixel-pool.js';

describe('PixelPool', () => {
  it('hands a given-back buffer out again for the same size, and a new one otherwise', () => {
    const pool = new PixelPool();
    const a = pool.take(12);
    const b = pool.take(12);
    expect(a).not.toBe(b);
    pool.give(a);
    expect(pool.take(12)).toBe(a);
    expect(pool.take(8)).toHaveLength(8);
  });

  it('keeps only what it lent, once', () => {
    const pool = new PixelPool();
    const foreign = new Float32Array(12);
    pool.give(foreign);
    pool.give('not a buffer');
    expect(pool.take(12)).not.toBe(foreign);
    const lent = pool.take(4);
    pool.give(lent);
    pool.give(lent);
    expect(pool.take(4)).toBe(lent);
    // Given twice, kept once: the next one is new.
    expect(pool.take(4)).not.toBe(lent);
  });
});
