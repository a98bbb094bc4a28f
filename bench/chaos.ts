/**
 * `npm run chaos`: a job of 2 workers and an HTTP frontend on a persistent managed Redis,
 * under steady load through the TypeScript client and HTTP, while workers, the frontend and
 * Redis are killed and a worker is stopped past the claim bound; prints sent, answered,
 * errors by code, lost, answered twice and worker RSS. Loopback only, its own temporary home.
 *
 * Options: --seconds <n> (60), --redis-persistence false (to see what a Redis crash costs
 * without the append-only file). Exit code 0 when every target is met, 1 otherwise.
 */
import { parseArgs } from 'node:util';
import { CliHarness } from '../test/helpers/cli.js';
import { formatReport, targetsMissed } from './chaos-report.js';
import { runChaos } from './chaos-run.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    'redis-persistence': { type: 'string', default: 'true' },
  },
});
const persistence = values['redis-persistence'];
if (persistence !== 'true' && persistence !== 'false') {
  process.stderr.write(`--redis-persistence must be true or false, got "${persistence}"\n`);
  process.exit(2);
}
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds < 10 || seconds > 3600) {
  process.stderr.write(`--seconds must be a number from 10 to 3600, got "${values.seconds}"\n`);
  process.exit(2);
}

const cli = await CliHarness.create();
try {
  const report = await runChaos(cli, {
    seconds,
    redisPersistence: persistence === 'true',
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`${formatReport(report)}\n`);
  const missed = targetsMissed(report);
  process.stdout.write(missed.length === 0 ? 'every target met\n' : `targets missed: ${missed.join(', ')}\n`);
  process.exitCode = missed.length === 0 ? 0 : 1;
} finally {
  await cli.cleanup();
}
