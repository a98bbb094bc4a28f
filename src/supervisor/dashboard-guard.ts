import { randomBytes, timingSafeEqual } from 'node:crypto';
import { CsError } from '../errors/registry.js';

/** Names the Host header may carry besides the bound address: the loopback's own. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

/**
 * Who may use the dashboard. A browser on this machine may read it; another site open in
 * that browser must not act through it: every request's Host must be the bound address, a
 * loopback name or a name the user listed (CLUSTER_SERVING_DASHBOARD_HOSTS), which defeats
 * DNS rebinding (a page whose name points at 127.0.0.1 sends its own name as Host); every
 * action is a POST whose Origin is the dashboard itself and whose body carries the token
 * that only pages served by this supervisor hold.
 */
export class DashboardGuard {
  readonly token: string;
  private readonly hosts: ReadonlySet<string>;

  constructor(
    boundHost: string,
    extraHosts: readonly string[] = [],
    token = randomBytes(18).toString('base64url'),
  ) {
    this.token = token;
    const wildcard = boundHost === '0.0.0.0' || boundHost === '::';
    this.hosts = new Set(
      [...LOOPBACK_NAMES, ...(wildcard ? [] : [boundHost]), ...extraHosts].map((h) => h.toLowerCase()),
    );
  }

  /** Throws unless `host` (the Host header) names this dashboard. */
  checkHost(host: string | undefined): void {
    const name = hostName(host ?? '');
    if (name === undefined || !this.hosts.has(name)) {
      throw new CsError(
        'CS_ERR_DASHBOARD_HOST',
        `the dashboard does not answer for Host "${host ?? ''}"; use ${[...this.hosts].join(', ')}, or add the name to CLUSTER_SERVING_DASHBOARD_HOSTS (comma-separated)`,
      );
    }
  }

  /** Throws unless an action comes from a page of this dashboard (Origin) that holds its token. */
  checkAction(headers: { origin?: string | undefined; host?: string | undefined }, token: unknown): void {
    const expected = `http://${headers.host ?? ''}`.toLowerCase();
    if (headers.origin === undefined || headers.origin.toLowerCase() !== expected) {
      throw new CsError(
        'CS_ERR_DASHBOARD_FORBIDDEN',
        `an action must come from the dashboard's own page (Origin ${expected}, got ${headers.origin ?? 'none'}); scripts use the CLI (cluster-serving stop|cancel)`,
      );
    }
    if (typeof token !== 'string' || !sameText(token, this.token)) {
      throw new CsError(
        'CS_ERR_DASHBOARD_FORBIDDEN',
        'the action lacks the dashboard token of this supervisor; reload the page and try again',
      );
    }
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The name of a Host header without its port, lower case; undefined when it is not one. */
export function hostName(host: string): string | undefined {
  const trimmed = host.trim().toLowerCase();
  const bracketed = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(trimmed);
  if (bracketed !== null) return bracketed[1];
  const plain = /^([a-z0-9.-]+)(?::\d{1,5})?$/.exec(trimmed);
  return plain?.[1];
}

/** CLUSTER_SERVING_DASHBOARD_HOSTS: extra names the dashboard answers for, comma-separated. */
export const DASHBOARD_HOSTS_ENV = 'CLUSTER_SERVING_DASHBOARD_HOSTS';

export function dashboardHosts(env: NodeJS.ProcessEnv): string[] {
  return (env[DASHBOARD_HOSTS_ENV] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}
