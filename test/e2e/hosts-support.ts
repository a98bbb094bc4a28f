import { join } from 'node:path';
import { expect } from 'vitest';
import { writeModel } from '../fixtures/onnx-models.js';
import { CliHarness } from '../helpers/cli.js';
import type { TestNetwork } from '../helpers/netns.js';
import { freePort } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * One job, `shared`, on two test hosts: `ha` runs the managed Redis (on its own address,
 * with a password) and a worker, `hb` a worker that joins through that Redis.
 */
export class TwoHostJob {
  private readonly harnesses: CliHarness[] = [];

  constructor(private readonly network: TestNetwork) {}

  async hostCli(host: string): Promise<CliHarness> {
    const cli = await CliHarness.create({ wrap: this.network.wrap(host) });
    this.harnesses.push(cli);
    return cli;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.harnesses.splice(0).map((cli) => cli.cleanup()));
  }

  /** `envA`: more environment for host ha's `start` (and so its supervisor). */
  async start(extra: Record<string, string | number> = {}, envA: NodeJS.ProcessEnv = {}): Promise<TwoHosts> {
    const a = await this.hostCli('ha');
    const b = await this.hostCli('hb');
    const port = await freePort();
    const redisUrl = `redis://:hostpass@${this.network.host('ha').address}:${port}`;
    const model = await writeModel(join(a.root, 'models'), 'mlp');
    const config = { jobName: 'shared', modelParallelism: 1, redisUrl, redisMaxmemory: '64mb', ...extra };
    const pathA = await a.project('p', config, model);
    const pathB = await b.project('p', config, model);
    const startA = await a.run(['start', '-c', pathA, '--timeout', '120'], {
      env: { CLUSTER_SERVING_HOSTNAME: 'ha', ...envA },
    });
    expect(startA.code, startA.stderr).toBe(0);
    expect(startA.stdout).toContain('started by cluster-serving');
    const startB = await b.run(['start', '-c', pathB, '--timeout', '120'], {
      env: { CLUSTER_SERVING_HOSTNAME: 'hb' },
    });
    expect(startB.code, startB.stderr).toBe(0);
    expect(startB.stdout).not.toContain('started by cluster-serving');
    return { a, b, redisUrl, pathB };
  }
}

export interface TwoHosts {
  readonly a: CliHarness;
  readonly b: CliHarness;
  readonly redisUrl: string;
  readonly pathB: string;
}

export interface ListedHosts {
  name: string;
  workers: { ready: number; remote: number; hosts: { host: string; workers: number }[] };
}

export async function listed(cli: CliHarness, host: string): Promise<ListedHosts[]> {
  const result = await cli.run(['list', '--json'], { env: { CLUSTER_SERVING_HOSTNAME: host } });
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as { jobs: ListedHosts[] }).jobs;
}

/** Waits until `list` on a host shows the job's workers on `count` hosts. */
export async function hostsListed(cli: CliHarness, host: string, count: number): Promise<ListedHosts[]> {
  return waitFor(
    async () => {
      const seen = await listed(cli, host);
      return seen[0]?.workers.hosts.length === count ? seen : undefined;
    },
    { what: `list on ${host} to show ${count} host(s)`, timeoutMs: 30_000 },
  );
}
