import { describe, expect, it } from 'vitest';
import { InFlightLimit, TokenBucket } from '../../../src/frontend/admission.js';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('TokenBucket', () => {
  it('lets a full second of burst through at once, then refuses without waiting beyond the acquire timeout', () => {
    const c = clock();
    const bucket = new TokenBucket({ tokensPerSecond: 10, acquireTimeoutMs: 0, now: c.now });
    const answers = Array.from({ length: 12 }, () => bucket.reserve());
    expect(answers.slice(0, 10)).toEqual(Array(10).fill(0));
    expect(answers.slice(10)).toEqual([undefined, undefined]);
  });

  it('reserves the next token when it comes within the acquire timeout and says how long to wait', () => {
    const c = clock();
    const bucket = new TokenBucket({ tokensPerSecond: 10, acquireTimeoutMs: 250, now: c.now });
    for (let i = 0; i < 10; i++) bucket.reserve();
    // Tokens come every 100 ms: the next two are within 250 ms, the third is not.
    expect(bucket.reserve()).toBe(100);
    expect(bucket.reserve()).toBe(200);
    expect(bucket.reserve()).toBeUndefined();
    c.advance(100);
    expect(bucket.reserve()).toBe(200);
  });

  it('refills at the rate, never above one second of tokens', () => {
    const c = clock();
    const bucket = new TokenBucket({ tokensPerSecond: 5, acquireTimeoutMs: 0, now: c.now });
    for (let i = 0; i < 5; i++) bucket.reserve();
    expect(bucket.reserve()).toBeUndefined();
    c.advance(400);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, undefined]);
    c.advance(60_000);
    const burst = Array.from({ length: 7 }, () => bucket.reserve()).filter((w) => w === 0).length;
    expect(burst).toBe(5);
  });

  it('never admits more than capacity + rate x elapsed, whatever the arrival pattern', () => {
    const c = clock();
    const rate = 20;
    const bucket = new TokenBucket({ tokensPerSecond: rate, acquireTimeoutMs: 100, now: c.now });
    let admittedBy = 0;
    const start = c.now();
    for (let step = 0; step < 500; step++) {
      c.advance(step % 7);
      for (let k = 0; k < 3; k++) {
        const wait = bucket.reserve();
        // A reserved token is used at now + wait: the k-th one must fit the bound at that time.
        if (wait !== undefined) {
          admittedBy += 1;
          const usedAt = c.now() + wait;
          expect(admittedBy).toBeLessThanOrEqual(rate + (rate * (usedAt - start)) / 1000 + 1e-9);
        }
      }
    }
    expect(admittedBy).toBeGreaterThan(rate);
  });
});

describe('InFlightLimit', () => {
  it('refuses beyond the limit and frees a slot on release, once per release function', () => {
    const limit = new InFlightLimit(2);
    const a = limit.tryAcquire();
    const b = limit.tryAcquire();
    expect(a).toBeTypeOf('function');
    expect(b).toBeTypeOf('function');
    expect(limit.tryAcquire()).toBeUndefined();
    a?.();
    a?.();
    expect(limit.inFlight).toBe(1);
    const c = limit.tryAcquire();
    expect(c).toBeTypeOf('function');
    expect(limit.tryAcquire()).toBeUndefined();
  });
});
