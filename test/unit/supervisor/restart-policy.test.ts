import { describe, expect, it } from 'vitest';
import { RestartPolicy } from '../../../src/supervisor/restart-policy.js';

const options = { baseMs: 100, maxMs: 1000, jitter: 0.2, maxCrashes: 5, windowMs: 10_000 };

describe('RestartPolicy', () => {
  it('doubles the delay per crash within the window, up to the cap', () => {
    const policy = new RestartPolicy({ ...options, maxCrashes: 100 }, () => 0.5);
    const delays = [0, 1, 2, 3, 4, 5].map((i) => {
      const decision = policy.onCrash(1000 + i);
      return decision.action === 'restart' ? decision.delayMs : -1;
    });
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('applies jitter within the configured band', () => {
    const low = new RestartPolicy(options, () => 0).onCrash(0);
    const high = new RestartPolicy(options, () => 0.999999).onCrash(0);
    expect(low).toEqual({ action: 'restart', delayMs: 80 });
    expect(high).toEqual({ action: 'restart', delayMs: 120 });
  });

  it('gives up at maxCrashes within the window', () => {
    const policy = new RestartPolicy(options, () => 0.5);
    const actions = [0, 1, 2, 3, 4].map((i) => policy.onCrash(i * 100).action);
    expect(actions).toEqual(['restart', 'restart', 'restart', 'restart', 'give-up']);
  });

  it('forgets crashes older than the window, so a long-running process restarts fast again', () => {
    const policy = new RestartPolicy(options, () => 0.5);
    for (let i = 0; i < 4; i += 1) policy.onCrash(i);
    const later = policy.onCrash(50_000);
    expect(later).toEqual({ action: 'restart', delayMs: 100 });
    expect(policy.recentCrashes).toBe(1);
  });
});
