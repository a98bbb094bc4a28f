/**
 * The HTTPS keys of an `http:` section or of `cluster-serving http` flags: httpsEnabled,
 * securePort, and the PEM files httpsCertPath / httpsKeyPath. BigDL read a Java keystore
 * (httpsKeyStorePath, httpsKeyStoreToken); Node reads PEM, so those keys are refused with
 * the commands that convert a keystore. The files are checked to exist here; their content
 * is checked when the frontend starts (src/frontend/https-credentials.ts).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { readEntry, readKey, type Entry } from './collect-keys.js';
import { HTTP_PARSERS, HTTP_TABLE } from './keys.js';
import { expandHome } from './model-file.js';
import type { HttpOptions } from './types.js';

/** BigDL's keystore keys, lower case (keys match case-insensitively). */
const KEYSTORE_KEYS: ReadonlySet<string> = new Set(['httpskeystorepath', 'httpskeystoretoken']);

export function isKeystoreKey(key: string): boolean {
  return KEYSTORE_KEYS.has(key.toLowerCase());
}

/** The problem line for BigDL's keystore keys: what to do instead, commands included. */
export function keystoreProblem(label: string, prefix: string): string {
  return [
    `${label}: Java keystores are not read; convert yours to PEM and set ${prefix}httpsCertPath and ${prefix}httpsKeyPath:`,
    '      keytool -importkeystore -srckeystore keystore.jks -destkeystore keystore.p12 -deststoretype PKCS12',
    '      openssl pkcs12 -in keystore.p12 -nokeys -out cert.pem',
    '      openssl pkcs12 -in keystore.p12 -nocerts -nodes -out key.pem && chmod 600 key.pem',
    '    (keytool asks for the keystore token, openssl for the PKCS12 password)',
  ].join('\n');
}

export type HttpsOptions = Pick<
  HttpOptions,
  'httpsEnabled' | 'securePort' | 'httpsCertPath' | 'httpsKeyPath'
>;

/** Reads and checks the HTTPS keys; relative paths are taken from `baseDir` (the config's folder, or the working directory). */
export function resolveHttpsOptions(
  found: ReadonlyMap<string, Entry>,
  context: { readonly baseDir: string; readonly prefix: string; readonly port: number },
  out: { readonly problems: string[]; readonly warnings: string[] },
): HttpsOptions {
  const { problems, warnings } = out;
  const { prefix } = context;
  const httpsEnabled = readKey(found, HTTP_TABLE, 'httpsEnabled', problems);
  const securePort = readKey(found, HTTP_TABLE, 'securePort', problems);
  const path = (key: 'httpsCertPath' | 'httpsKeyPath', what: string): string | undefined => {
    const given = readEntry(found, key, HTTP_PARSERS[key], problems);
    if (given === undefined) {
      if (httpsEnabled)
        problems.push(`${prefix}${key}: ${prefix}httpsEnabled is true: expected the path of ${what}`);
      return undefined;
    }
    const absolute = resolve(context.baseDir, expandHome(given));
    if (httpsEnabled && !isFile(absolute))
      problems.push(`${prefix}${key}: expected ${what}, got "${given}" (no file at ${absolute})`);
    return absolute;
  };
  const httpsCertPath = path(
    'httpsCertPath',
    'a PEM certificate file (the server certificate, then any intermediates)',
  );
  const httpsKeyPath = path('httpsKeyPath', 'a PEM private key file');
  if (!httpsEnabled && (httpsCertPath !== undefined || httpsKeyPath !== undefined)) {
    warnings.push(
      `${prefix}httpsCertPath and ${prefix}httpsKeyPath are not used: ${prefix}httpsEnabled is false`,
    );
  }
  if (httpsEnabled && securePort === context.port && securePort !== 0) {
    problems.push(
      `${prefix}securePort: expected a port other than ${prefix}port (${context.port}), which keeps serving plain HTTP`,
    );
  }
  return { httpsEnabled, securePort, httpsCertPath, httpsKeyPath };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
