import cluster from 'node:cluster';

/**
 * Runs a naive baseline server in `processes` processes sharing its port (node:cluster), or in
 * this one. The primary reports `{type: 'ready'}` to its parent once every process listens,
 * and stops them all on SIGTERM.
 */
export async function serveNaive(processes: number, serve: () => Promise<void>): Promise<void> {
  if (processes <= 1 || !cluster.isPrimary) {
    await serve();
    return;
  }
  let ready = 0;
  for (let i = 0; i < processes; i++) {
    const worker = cluster.fork();
    worker.on('message', (m: { type?: string }) => {
      if (m.type === 'ready' && ++ready === processes) process.send?.({ type: 'ready' });
    });
  }
  process.once('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
    process.exit(0);
  });
}
