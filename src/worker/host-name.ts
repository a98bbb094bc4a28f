import { hostname } from 'node:os';

/** Environment variable that names this host in heartbeats, consumer names and `list`. */
export const HOSTNAME_ENV = 'CLUSTER_SERVING_HOSTNAME';

/**
 * The name a worker reports for its host: the OS's, unless CLUSTER_SERVING_HOSTNAME says
 * otherwise (containers and network namespaces often share one OS hostname, and `list`
 * groups workers per host by this name).
 */
export function hostName(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env[HOSTNAME_ENV]?.trim();
  return chosen === undefined || chosen === '' ? hostname() : chosen;
}
