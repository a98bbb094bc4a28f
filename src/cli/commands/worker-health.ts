import { CsError } from '../../errors/registry.js';

/** Where a foreground worker answers its probes: `--health-port` and `--health-host`. */
export interface HealthPortOptions {
  readonly port: number;
  readonly host: string;
}

/**
 * Reads `--health-port` (1-65535; 0 lets the OS choose, which tests use) and `--health-host`
 * (default 0.0.0.0: the kubelet probes the pod's address, not loopback).
 */
export function parseHealthPort(
  port: string | undefined,
  host: string | undefined,
): HealthPortOptions | undefined {
  if (port === undefined) {
    if (host !== undefined)
      throw new CsError('CS_ERR_CLI_USAGE', '--health-host needs --health-port: add the port to listen on');
    return undefined;
  }
  const value = Number(port);
  if (!/^\d+$/.test(port) || !Number.isInteger(value) || value > 65_535) {
    throw new CsError(
      'CS_ERR_CLI_USAGE',
      `--health-port expects a port number from 0 to 65535, received "${port}"`,
    );
  }
  return { port: value, host: host ?? '0.0.0.0' };
}
