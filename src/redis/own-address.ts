import { networkInterfaces } from 'node:os';

/**
 * True when `host` is an address of one of this machine's (or network namespace's)
 * non-loopback interfaces: a Redis named by it may be started here and serves other hosts.
 */
export function isOwnAddress(host: string): boolean {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (!address.internal && address.address === host) return true;
    }
  }
  return false;
}
