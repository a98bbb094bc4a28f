import { CsError } from '../errors/registry.js';

/** Where the supervisor serves its dashboard. */
export interface DashboardAddress {
  readonly host: string;
  readonly port: number;
}

export const DASHBOARD_ENV = 'CLUSTER_SERVING_DASHBOARD';
export const DEFAULT_DASHBOARD: DashboardAddress = { host: '127.0.0.1', port: 8081 };

/**
 * The dashboard's address from CLUSTER_SERVING_DASHBOARD: unset or empty → 127.0.0.1:8081;
 * `off` → none; `PORT`, `HOST:PORT` or `[IPv6]:PORT` otherwise. Anything else is a usage error.
 */
export function dashboardAddress(env: NodeJS.ProcessEnv): DashboardAddress | undefined {
  const value = env[DASHBOARD_ENV]?.trim() ?? '';
  if (value === '') return DEFAULT_DASHBOARD;
  if (value.toLowerCase() === 'off') return undefined;
  const match = /^(?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (match === null || port > 65_535) {
    throw new CsError(
      'CS_ERR_CLI_USAGE',
      `${DASHBOARD_ENV}=${value} is not an address: use off, a port (8081), or host:port (127.0.0.1:8081)`,
    );
  }
  const host = match[1]?.replace(/^\[|\]$/g, '') ?? DEFAULT_DASHBOARD.host;
  return { host, port };
}
