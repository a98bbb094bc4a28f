import { resultPrefix } from '../contracts/job-names.js';
import { collectKeys, readEntry, readKey } from './collect-keys.js';
import { DEFAULTS } from './defaults.js';
import { isKeystoreKey, keystoreProblem, resolveHttpsOptions } from './https-options.js';
import type { ValueOf } from './key-spec.js';
import { HTTP_KEYS, HTTP_PARSERS, HTTP_TABLE } from './keys.js';
import { parseRedisUrl, redisEndpoint } from './redis-url.js';
import type { HttpOptions } from './types.js';

/** What an `http:` section takes from its config's top level unless it sets its own. */
export interface HttpInheritance {
  /** Normalised top-level redisUrl. */
  readonly redisUrl?: string;
  readonly jobName?: string;
  /** Where relative file paths (the HTTPS PEM files) start: the config's folder; default the working directory. */
  readonly baseDir?: string;
}

export interface HttpResolution {
  readonly options: HttpOptions;
  /** One line per invalid or unknown key; empty when the options are usable. */
  readonly problems: string[];
  readonly warnings: string[];
}

/**
 * The frontend options from an `http:` section or from `cluster-serving http` flags (keys
 * are matched case-insensitively, values may be strings). Problems are returned, not
 * thrown, so a caller can report them with the rest of its own.
 */
export function resolveHttpOptions(
  raw: Record<string, unknown>,
  inherited: HttpInheritance = {},
): HttpResolution {
  return resolveHttpSection(raw, inherited, '');
}

/** As resolveHttpOptions, with `prefix` (`http.`) before every key named in a message. */
export function resolveHttpSection(
  raw: Record<string, unknown>,
  inherited: HttpInheritance,
  prefix: string,
): HttpResolution {
  const problems: string[] = [];
  const warnings: string[] = [];
  const entries = Object.entries(raw);
  const keystore = entries.find(([key]) => isKeystoreKey(key));
  if (keystore !== undefined) problems.push(keystoreProblem(`${prefix}${keystore[0]}`, prefix));
  const found = collectKeys(
    entries.filter(([key]) => !isKeystoreKey(key)),
    { known: HTTP_KEYS, prefix },
    problems,
  );
  const redis = resolveRedis(
    {
      url: readEntry(found, 'redisUrl', HTTP_PARSERS.redisUrl, problems),
      host: readEntry(found, 'redisHost', HTTP_PARSERS.redisHost, problems),
      port: readEntry(found, 'redisPort', HTTP_PARSERS.redisPort, problems),
    },
    inherited,
    prefix,
    { problems, warnings },
  );

  const redisInputQueue =
    readEntry(found, 'redisInputQueue', HTTP_PARSERS.redisInputQueue, problems) ??
    inherited.jobName ??
    DEFAULTS.http.redisInputQueue;
  if (inherited.jobName !== undefined && redisInputQueue !== inherited.jobName) {
    warnings.push(
      `${prefix}redisInputQueue "${redisInputQueue}" differs from jobName "${inherited.jobName}": ` +
        "the frontend feeds a stream this job's workers do not read",
    );
  }
  const expectedOutput = resultPrefix(redisInputQueue);
  const redisOutputQueue =
    readEntry(found, 'redisOutputQueue', HTTP_PARSERS.redisOutputQueue, problems) ?? expectedOutput;
  if (redisOutputQueue !== expectedOutput) {
    warnings.push(
      `${prefix}redisOutputQueue "${redisOutputQueue}" differs from "${expectedOutput}", where workers write ` +
        'results: the frontend only gets answers that something else writes there',
    );
  }

  const read = <K extends keyof typeof HTTP_TABLE & string>(name: K): ValueOf<(typeof HTTP_TABLE)[K]> =>
    readKey(found, HTTP_TABLE, name, problems);
  const port = read('port');
  const https = resolveHttpsOptions(
    found,
    { baseDir: inherited.baseDir ?? process.cwd(), prefix, port },
    { problems, warnings },
  );
  const options: HttpOptions = {
    interface: read('interface'),
    port,
    ...redis,
    redisInputQueue,
    redisOutputQueue,
    parallelism: read('parallelism'),
    processes: read('processes'),
    timeWindow: read('timeWindow'),
    countWindow: read('countWindow'),
    tokenBucketEnabled: read('tokenBucketEnabled'),
    tokensPerSecond: read('tokensPerSecond'),
    tokenAcquireTimeout: read('tokenAcquireTimeout'),
    requestTimeout: read('requestTimeout'),
    bodyLimit: read('bodyLimit'),
    ...https,
  };
  return { options, problems, warnings };
}

type RedisOptions = Pick<HttpOptions, 'redisHost' | 'redisPort' | 'redisUrl'>;

/**
 * The frontend's own redisUrl wins; then its own redisHost/redisPort (BigDL's flags);
 * then the config's redisUrl. redisHost/redisPort always describe the server actually
 * used, so code that reads only them still connects to the right place.
 */
function resolveRedis(
  given: { url: string | undefined; host: string | undefined; port: number | undefined },
  inherited: HttpInheritance,
  prefix: string,
  out: { problems: string[]; warnings: string[] },
): RedisOptions {
  const d = DEFAULTS.http;
  if (given.url !== undefined) {
    if (given.host !== undefined || given.port !== undefined) {
      out.warnings.push(
        `${prefix}redisHost and ${prefix}redisPort are ignored: ${prefix}redisUrl names the server`,
      );
    }
    return fromUrl(given.url);
  }
  if (given.host !== undefined || given.port !== undefined) {
    return {
      redisUrl: undefined,
      redisHost: given.host ?? d.redisHost,
      redisPort: given.port ?? d.redisPort,
    };
  }
  if (inherited.redisUrl !== undefined) {
    const parsed = parseRedisUrl(inherited.redisUrl);
    if (parsed.ok) return fromUrl(parsed.value);
    out.problems.push(`redisUrl (inherited by the frontend): expected ${parsed.expected}`);
  }
  return { redisUrl: d.redisUrl, redisHost: d.redisHost, redisPort: d.redisPort };
}

function fromUrl(url: string): RedisOptions {
  const endpoint = redisEndpoint(url);
  return { redisUrl: url, redisHost: endpoint.host, redisPort: endpoint.port };
}
