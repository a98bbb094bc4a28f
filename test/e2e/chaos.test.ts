import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatReport, targetsMissed } from '../../bench/chaos-report.js';
import { runChaos } from '../../bench/chaos-run.js';
import { CliHarness } from '../helpers/cli.js';

let cli: CliHarness;

beforeEach(async () => {
  cli = await CliHarness.create();
});

afterEach(async () => {
  await cli.cleanup();
});

/*
 * The short form of `npm run chaos` (25 s of load and faults; about 45 s in all), with the
 * real targets: nothing accepted is lost or answered twice, every error is coded, nothing is
 * left in the stream, worker memory stays near its baseline.
 */
describe('chaos', { timeout: 120_000 }, () => {
  it('under kill -9 of workers, frontend and Redis and a worker stopped past the claim bound, nothing accepted is lost or answered twice', async () => {
    const report = await runChaos(cli, { seconds: 25 });
    const figures = formatReport(report);
    process.stdout.write(`${figures}\n`);
    // The run did what it says: load on every path, and every fault applied to a live process.
    expect(report.sent.client, figures).toBeGreaterThan(0);
    expect(report.sent.enqueue, figures).toBeGreaterThan(0);
    expect(report.sent.http, figures).toBeGreaterThan(0);
    expect(report.answered, figures).toBeGreaterThan(0);
    expect(
      report.actions.filter((a) => a.includes('pid none')),
      figures,
    ).toEqual([]);
    // Every process is gone after shutdown, whatever the figures say.
    const pids = await cli.recordedPids();
    expect((await cli.run(['shutdown'])).code).toBe(0);
    await cli.assertNothingLeft(pids, []);
    expect(targetsMissed(report), figures).toEqual([]);
  });
});
