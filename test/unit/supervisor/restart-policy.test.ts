import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RESTART_POLICY,
  REDIS_RESTART_POLICY,
  RestartPolicy,
} from '../../../src/supervisor/restart-policy.js';

const options = { baseMs: 100, maxMs: 1000, jitter: 0.2, windowMs: 10_000 };

describe('RestartPolicy', () => {
  it('doubles the delay per crash within the window, up to the cap', () => {
    const policy = new RestartPolicy(options, () => 0.5);
    const delays = [0, 1, 2, 3, 4, 5].map((i) => policy.onCrash(1000 + i));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('applies jitter within the configured band', () => {
    expect(new RestartPolicy(options, () => 0).onCrash(0)).toBe(80);
    expect(new RestartPolicy(options, () => 0.999999).onCrash(0)).toBe(120);
  });

  it('never gives up: a hundred crashes in a row still get a capped delay', () => {
    const policy = new RestartPolicy(options, () => 0.5);
    const delays = Array.from({ length: 100 }, (_, i) => policy.onCrash(i));
    expect(delays.at(-1)).toBe(1000);
    expect(delays.every((delay) => delay > 0 && delay <= 1000)).toBe(true);
  });

  it('caps a slot at a minute and a managed Redis at 10 s, jitter included', () => {
    const slot = new RestartPolicy(DEFAULT_RESTART_POLICY, () => 0.999999);
    const redis = new RestartPolicy(REDIS_RESTART_POLICY, () => 0.999999);
    for (let i = 0; i < 40; i += 1) {
      expect(slot.onCrash(i)).toBeLessThanOrEqual(60_000);
      expect(redis.onCrash(i)).toBeLessThanOrEqual(10_000);
    }
    expect(slot.onCrash(41)).toBe(60_000);
  });

  it('forgets crashes older than the window, so a long-running process restarts fast again', () => {
    const policy = new RestartPolicy(options, () => 0.5);
    for (let i = 0; i < 4; i += 1) policy.onCrash(i);
    expect(policy.onCrash(50_000)).toBe(100);
    expect(policy.recentCrashes).toBe(1);
  });
});
