import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import { waitFor } from './wait-for.js';

/**
 * A port that was free a moment ago, below Linux's ephemeral range (32768 and up): the kernel
 * gives ports from that range to outgoing connections, and with many tests connecting at once
 * one of them could take a port between this check and the listener that wants it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await bindable(port)) return port;
  }
  throw new Error('no free port found between 20000 and 32000');
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  readonly process: ChildProcess;
  client(): Redis;
  stop(): Promise<void>;
}

/**
 * A real redis-server on a free loopback port (or the one given, so a test can stop it and
 * start it again at the same address), nothing on disk unless `args` (added last, so they
 * win) say otherwise.
 */
export async function startRedis(
  options: { port?: number; args?: readonly string[] } = {},
): Promise<TestRedis> {
  const port = options.port ?? (await freePort());
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'warning',
      // A replica writes the snapshot it receives even without `save`: keep it out of the checkout.
      '--dir',
      tmpdir(),
      '--dbfilename',
      `cs-test-${port}.rdb`,
      ...(options.args ?? []),
    ],
    { stdio: 'ignore' },
  );
  const clients: Redis[] = [];
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } finally {
        probe.disconnect();
      }
    },
    { what: `redis-server on port ${port}` },
  );
  return {
    port,
    url,
    process: child,
    client(): Redis {
      const c = new Redis(url);
      clients.push(c);
      return c;
    },
    async stop(): Promise<void> {
      for (const c of clients) c.disconnect();
      // A server killed by a signal has a signalCode and no exitCode: its exit already happened.
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
