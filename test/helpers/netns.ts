import { execFileSync } from 'node:child_process';
import { isRunning } from './cli.js';

/**
 * Test hosts as Linux network namespaces: one bridge in the test's own namespace, one veth
 * pair per host, addresses in a private /24 (10.213.<n>.0) that only this run uses. Every
 * name carries the test process's pid (`cst<pid>...`), so `destroy()` removes exactly what
 * this run made and `sweepStaleNetworks()` removes what a run that died left behind.
 * Needs root and iproute2 (`ip`).
 */
export interface TestHost {
  readonly name: string;
  readonly namespace: string;
  /** The host's address on the test subnet. */
  readonly address: string;
  /** The host's end of the link as seen from the test's namespace (for link down/up). */
  readonly link: string;
}

const PREFIX = 'cst';

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class TestNetwork {
  private readonly hosts = new Map<string, TestHost>();
  private destroyed = false;

  private constructor(
    readonly tag: string,
    readonly bridge: string,
    /** The test's own address on the subnet (the bridge's). */
    readonly gateway: string,
  ) {}

  /** Creates a bridge and one namespace per name; on any failure, removes what it made. */
  static create(names: readonly string[]): TestNetwork {
    sweepStaleNetworks();
    const tag = `${PREFIX}${process.pid}`;
    const subnet = freeSubnet();
    const network = new TestNetwork(tag, `${tag}br`, `${subnet}.1`);
    try {
      ip('link', 'add', network.bridge, 'type', 'bridge');
      ip('addr', 'add', `${network.gateway}/24`, 'dev', network.bridge);
      ip('link', 'set', network.bridge, 'up');
      names.forEach((name, index) => network.addHost(name, `${subnet}.${index + 2}`, index));
    } catch (error) {
      network.destroy();
      throw error;
    }
    return network;
  }

  private addHost(name: string, address: string, index: number): void {
    if (!/^[a-z][a-z0-9]{0,15}$/.test(name)) throw new Error(`host name ${name} must be short lowercase`);
    const namespace = `${this.tag}-${name}`;
    const link = `${this.tag}v${index}`;
    const peer = `${this.tag}p${index}`;
    ip('netns', 'add', namespace);
    this.hosts.set(name, { name, namespace, address, link });
    ip('link', 'add', link, 'type', 'veth', 'peer', 'name', peer);
    ip('link', 'set', peer, 'netns', namespace);
    ip('link', 'set', link, 'master', this.bridge);
    ip('link', 'set', link, 'up');
    ip('-n', namespace, 'link', 'set', 'lo', 'up');
    ip('-n', namespace, 'link', 'set', peer, 'name', 'eth0');
    ip('-n', namespace, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    ip('-n', namespace, 'link', 'set', 'eth0', 'up');
  }

  host(name: string): TestHost {
    const host = this.hosts.get(name);
    if (host === undefined) throw new Error(`no test host ${name}`);
    return host;
  }

  /** The argv prefix that runs a command inside a host. */
  wrap(name: string): string[] {
    return ['ip', 'netns', 'exec', this.host(name).namespace];
  }

  /** Cuts a host off the subnet (its processes keep running, their connections stall). */
  linkDown(name: string): void {
    ip('link', 'set', this.host(name).link, 'down');
  }

  linkUp(name: string): void {
    ip('link', 'set', this.host(name).link, 'up');
  }

  /** Idempotent; every step runs even when one fails (a namespace removal takes its veth end along). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const host of this.hosts.values()) {
      tryIp('netns', 'del', host.namespace);
      tryIp('link', 'del', host.link);
    }
    tryIp('link', 'del', this.bridge);
  }
}

/** A 10.213.<n> /24 no interface uses yet (test files run side by side, each with its own). */
function freeSubnet(): string {
  const used = ip('-o', 'addr', 'show');
  for (let i = 0; i < 254; i += 1) {
    const candidate = `10.213.${((process.pid + i) % 254) + 1}`;
    if (!used.includes(` ${candidate}.`)) return candidate;
  }
  throw new Error('no free 10.213.x.0/24 test subnet');
}

function tryIp(...args: string[]): void {
  try {
    ip(...args);
  } catch {
    // already gone
  }
}

/** Removes namespaces and links of earlier runs whose test process is gone. */
export function sweepStaleNetworks(): void {
  const stale = (name: string): boolean => {
    const match = new RegExp(`^${PREFIX}(\\d+)`).exec(name);
    return match !== null && Number(match[1]) !== process.pid && !isRunning(Number(match[1]));
  };
  for (const line of ip('netns', 'list').split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (stale(name)) tryIp('netns', 'del', name);
  }
  for (const line of ip('-o', 'link', 'show').split('\n')) {
    const name = /^\d+:\s+([^:@\s]+)/.exec(line)?.[1] ?? '';
    if (stale(name)) tryIp('link', 'del', name);
  }
}
