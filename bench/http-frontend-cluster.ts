/**
 * Several frontend processes sharing one port through node:cluster, for `npm run bench:http`
 * (JSON parsing is per-request CPU work that a second process can take). Flags after
 * `--processes <n>` are the frontend's own.
 *
 *   node bench/http-frontend-cluster.ts --processes 2 --port 10020 --redisUrl ... --redisInputQueue job
 */
import './plain-runtime.js';
import cluster from 'node:cluster';
import { parseFrontendArgv } from '../src/frontend/options.js';
import { runFrontend } from '../src/frontend/main.js';

const args = process.argv.slice(2);
const at = args.indexOf('--processes');
const processes = at === -1 ? 2 : Number(args[at + 1]);
const frontendArgs = at === -1 ? args : [...args.slice(0, at), ...args.slice(at + 2)];

if (cluster.isPrimary) {
  let ready = 0;
  for (let i = 0; i < processes; i++) {
    const worker = cluster.fork();
    worker.on('message', (m: { type?: string; url?: string }) => {
      if (m.type === 'state' && ++ready === processes)
        process.send?.({ type: 'state', state: 'ready', url: m.url });
      if (m.type === 'fatal') process.send?.(m);
    });
  }
  process.once('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
  });
} else {
  const { flags } = parseFrontendArgv(frontendArgs);
  process.exitCode = await runFrontend({ flags });
  process.disconnect();
}
