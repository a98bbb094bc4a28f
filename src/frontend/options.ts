import { resolveHttpOptions } from '../config/http-options.js';
import { loadConfig } from '../config/load.js';
import { redisUrlOf } from '../config/redis-url.js';
import type { HttpOptions } from '../config/types.js';
import type { PlacementSettings } from '../placement/cpu-plan.js';
import { CsError } from '../errors/registry.js';

/** How `runFrontend` is called (the CLI's `cluster-serving http` and the supervisor). */
export interface RunFrontendOptions {
  readonly configPath?: string;
  readonly flags?: Record<string, string | number | boolean>;
  readonly logFile?: string;
}

/** Everything the frontend process needs, resolved. */
export interface FrontendSettings {
  readonly http: HttpOptions;
  /** The Redis url actually used (redisUrl, or redisHost:redisPort). */
  readonly redisUrl: string;
  readonly maxQueueLength: number | undefined;
  /** The job's record bounds from its config.yaml; without one, the frontend takes them from the workers' metadata. */
  readonly maxRecordBatch: number | undefined;
  readonly maxRecordBytes: number | undefined;
  readonly redisTimeoutMs: number | undefined;
  /** config key redisMinReplicas */
  readonly minReplicas: number | undefined;
  readonly caFile: string | undefined;
  /** The job's worker counts and cpuAffinity, when the options come from its config.yaml. */
  readonly placement: PlacementSettings | undefined;
  readonly warnings: readonly string[];
}

/** Flags that are not frontend options: where the config is, the Redis override. */
const CONFIG_FLAG = 'config';
const REDIS_FLAG = 'redis';

/**
 * Options from a config's `http:` section (inheriting its redisUrl and jobName) and/or flags;
 * flags win over the section. Invalid or unknown options are one CS_ERR_CONFIG_INVALID
 * listing every problem.
 */
export function resolveFrontendSettings(options: RunFrontendOptions): FrontendSettings {
  const flags: Record<string, unknown> = { ...(options.flags ?? {}) };
  const redisOverride = takeString(flags, REDIS_FLAG);
  const configPath = options.configPath ?? takeString(flags, CONFIG_FLAG);
  const warnings: string[] = takeBigdlOnlyFlags(flags);

  if (configPath === undefined) {
    if (redisOverride !== undefined && flags['redisUrl'] === undefined) flags['redisUrl'] = redisOverride;
    const resolved = resolveHttpOptions(flags);
    failOn(resolved.problems, 'cluster-serving http');
    return settings(resolved.options, undefined, [...warnings, ...resolved.warnings]);
  }

  const { config, warnings: configWarnings } = loadConfig(
    configPath,
    redisOverride === undefined ? {} : { redisUrl: redisOverride },
  );
  warnings.push(...configWarnings);
  const inherited = { redisUrl: config.redisUrl, jobName: config.jobName };
  let http = config.http ?? resolveHttpOptions({}, inherited).options;
  if (Object.keys(flags).length > 0) {
    completeHttpsFlags(flags, http);
    const resolved = resolveHttpOptions(flags, inherited);
    failOn(resolved.problems, 'cluster-serving http');
    warnings.push(...resolved.warnings);
    http = overlay(http, resolved.options, Object.keys(flags));
  }
  return settings(http, config, warnings);
}

function settings(
  http: HttpOptions,
  config: ReturnType<typeof loadConfig>['config'] | undefined,
  warnings: string[],
): FrontendSettings {
  return {
    http,
    redisUrl: http.redisUrl ?? redisUrlOf(http.redisHost, http.redisPort),
    maxQueueLength: config?.maxQueueLength,
    maxRecordBatch: config?.maxRecordBatch,
    maxRecordBytes: config?.maxRecordBytes,
    redisTimeoutMs: config?.redisTimeout,
    minReplicas: config?.redisMinReplicas,
    caFile: config?.redisSecureEnabled === true ? config.redisSecureTrustStorePath : undefined,
    placement: config,
    warnings,
  };
}

const HTTPS_KEYS = ['httpsEnabled', 'securePort', 'httpsCertPath', 'httpsKeyPath', 'port'] as const;

/**
 * The HTTPS options are checked together (enabled needs both files, securePort differs from
 * port): when flags set some of them, the section supplies the others, so that
 * `--httpsEnabled true` uses the section's PEM files.
 */
function completeHttpsFlags(flags: Record<string, unknown>, section: HttpOptions): void {
  const given = new Set(Object.keys(flags).map((k) => k.toLowerCase()));
  if (!HTTPS_KEYS.some((k) => k !== 'port' && given.has(k.toLowerCase()))) return;
  for (const key of HTTPS_KEYS) {
    const value = section[key];
    if (!given.has(key.toLowerCase()) && value !== undefined) flags[key] = value;
  }
}

/** The options named by `given` flags (case-insensitively) taken from `top`, the rest from `base`. */
function overlay(base: HttpOptions, top: HttpOptions, given: readonly string[]): HttpOptions {
  const lower = new Set(given.map((k) => k.toLowerCase()));
  const out: Record<string, unknown> = { ...base };
  for (const key of Object.keys(top) as (keyof HttpOptions)[]) {
    if (lower.has(key.toLowerCase())) out[key] = top[key];
  }
  if (lower.has('redishost') || lower.has('redisport')) {
    if (!lower.has('redisurl')) out['redisUrl'] = undefined;
  }
  return out as unknown as HttpOptions;
}

/**
 * Flags of BigDL's frontend that we do not provide: ignored with a warning each, so BigDL start
 * scripts keep working. (Its HTTPS flags are options; its keystore flags are refused by the
 * option resolution, with the commands that convert a keystore to PEM.)
 */
const BIGDL_ONLY_FLAGS: Readonly<Record<string, string>> = {
  redissecureenabled: 'use a rediss:// redisUrl for TLS to Redis',
  redisstruststorepath:
    'use a rediss:// redisUrl (and redisSecureTrustStorePath in config.yaml) for TLS to Redis',
  redisstruststoretoken: 'use a rediss:// redisUrl for TLS to Redis',
  servablemanagerconfpath: "BigDL's multi-model frontend is not provided: run one frontend per job",
};

function takeBigdlOnlyFlags(flags: Record<string, unknown>): string[] {
  const warnings: string[] = [];
  for (const key of Object.keys(flags)) {
    const why = BIGDL_ONLY_FLAGS[key.toLowerCase()];
    if (why === undefined) continue;
    delete flags[key];
    warnings.push(`--${key} is a BigDL frontend option that is ignored here: ${why}`);
  }
  return warnings;
}

function takeString(flags: Record<string, unknown>, key: string): string | undefined {
  const value = flags[key];
  delete flags[key];
  return typeof value === 'string' ? value : undefined;
}

function failOn(problems: readonly string[], where: string): void {
  if (problems.length === 0) return;
  throw new CsError(
    'CS_ERR_CONFIG_INVALID',
    `${where}: invalid options:\n${problems.map((p) => `  ${p}`).join('\n')}`,
  );
}

/**
 * `--port 8080`, `--port=8080`, and a bare `--tokenBucketEnabled` (true) as a flags record;
 * `-c` is `--config`. Anything else is a usage error.
 */
export function parseFrontendArgv(argv: readonly string[]): {
  flags: Record<string, string | boolean>;
  logFile?: string;
} {
  const flags: Record<string, string | boolean> = {};
  let logFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    let key: string;
    let value: string | boolean | undefined;
    if (arg === '-c') key = CONFIG_FLAG;
    else if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      key = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      if (eq !== -1) value = arg.slice(eq + 1);
    } else {
      throw new CsError('CS_ERR_CLI_USAGE', `unexpected argument "${arg}"; options look like --port 10020`);
    }
    if (value === undefined) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--') && next !== '-c') {
        value = next;
        i += 1;
      } else {
        value = true;
      }
    }
    if (key === 'log-file') {
      if (typeof value !== 'string') throw new CsError('CS_ERR_CLI_USAGE', '--log-file needs a path');
      logFile = value;
    } else {
      flags[key] = value;
    }
  }
  return logFile === undefined ? { flags } : { flags, logFile };
}
