import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { isCsError, type CsError } from '../errors/registry.js';
import { isEmptyValue, isPlainMapping, readEntry, readKey, type Entry } from './collect-keys.js';
import { DEFAULTS } from './defaults.js';
import { resolveHttpSection, type HttpInheritance } from './http-options.js';
import { IGNORED_BIGDL_KEYS, TOP_LEVEL_PARSERS as P, TOP_LEVEL_TABLE } from './keys.js';
import { expandHome, resolveModelFile } from './model-file.js';
import { isSentinelUrl, parseRedisUrl, withTls } from './redis-url.js';
import type { HttpOptions, ServingConfig } from './types.js';
import { describeValue, parseText } from './value-parsers.js';

/** The parts of resolveConfig that need more than one key or the file system. */

type Found = ReadonlyMap<string, Entry>;

export interface ResolvedModel {
  /** Absolute `.onnx` path ('' when it could not be resolved; a problem says why). */
  readonly file: string;
  /** The model's own error, thrown as is when it is the config's only problem. */
  readonly error: CsError | undefined;
}

export function resolveModel(found: Found, baseDir: string, problems: string[]): ResolvedModel {
  const entry = found.get('modelPath');
  if (entry === undefined || isEmptyValue(entry.value)) {
    problems.push(
      'modelPath: required: a directory holding exactly one .onnx model, or the .onnx file ' +
        '(relative paths start at the config file)',
    );
    return { file: '', error: undefined };
  }
  const path = readEntry(found, 'modelPath', parseText, problems);
  if (path === undefined) return { file: '', error: undefined };
  try {
    return { file: resolveModelFile(resolve(baseDir, expandHome(path))), error: undefined };
  } catch (error) {
    if (!isCsError(error)) throw error;
    problems.push(`${entry.label}: ${error.message}`);
    return { file: '', error };
  }
}

type WorkerCounts = Pick<ServingConfig, 'modelParallelism' | 'threadPerModel'>;

/** BigDL's rule: coreNumberPerMachine = n means n single-threaded models, whatever else is set. */
export function resolveWorkerCounts(found: Found, problems: string[], warnings: string[]): WorkerCounts {
  const cores = readEntry(found, 'coreNumberPerMachine', P.coreNumberPerMachine, problems);
  const modelParallelism = readEntry(found, 'modelParallelism', P.modelParallelism, problems);
  const threadPerModel = readEntry(found, 'threadPerModel', P.threadPerModel, problems);
  if (cores === undefined) {
    return {
      modelParallelism: modelParallelism ?? DEFAULTS.modelParallelism,
      threadPerModel: threadPerModel ?? DEFAULTS.threadPerModel,
    };
  }
  const overridden = [
    modelParallelism === undefined ? undefined : `modelParallelism: ${modelParallelism}`,
    threadPerModel === undefined ? undefined : `threadPerModel: ${threadPerModel}`,
  ].filter((text) => text !== undefined);
  if (overridden.length > 0) {
    warnings.push(
      `coreNumberPerMachine: ${cores} sets modelParallelism to ${cores} and threadPerModel to 1; ` +
        `the ${overridden.join(' and ')} also given ${overridden.length === 1 ? 'is' : 'are'} ignored`,
    );
  }
  return { modelParallelism: cores, threadPerModel: 1 };
}

type RedisSettings = Pick<
  ServingConfig,
  | 'redisUrl'
  | 'redisMaxmemory'
  | 'redisPersistence'
  | 'redisTimeout'
  | 'redisMinReplicas'
  | 'redisSecureEnabled'
  | 'redisSecureTrustStorePath'
  | 'redisSecureTrustStorePassword'
>;

/**
 * TLS is on when redisSecureEnabled is true or the URL says `rediss://`; either way the
 * URL ends up `rediss://`, so a consumer can read the URL alone and connect correctly.
 */
export function resolveRedis(
  found: Found,
  baseDir: string,
  override: string | undefined,
  problems: string[],
  warnings: string[],
): RedisSettings {
  let url = readEntry(found, 'redisUrl', P.redisUrl, problems) ?? DEFAULTS.redisUrl;
  if (override !== undefined) {
    const parsed = parseRedisUrl(override);
    if (parsed.ok) url = parsed.value;
    else
      problems.push(
        `redis URL given on the command line: expected ${parsed.expected}, got ${describeValue(override)}`,
      );
  }
  const secureGiven = readEntry(found, 'redisSecureEnabled', P.redisSecureEnabled, problems);
  const secure = secureGiven === true || url.startsWith('rediss:');
  if (secure && isSentinelUrl(url)) {
    problems.push(
      'redisSecureEnabled: TLS through Sentinel is not supported; use redis:// or rediss:// to one server',
    );
  } else if (secure) url = withTls(url);

  const pathGiven = readEntry(found, 'redisSecureTrustStorePath', P.redisSecureTrustStorePath, problems);
  const trustStore = pathGiven === undefined ? undefined : resolve(baseDir, expandHome(pathGiven));
  if (trustStore !== undefined) {
    if (!isFile(trustStore)) {
      problems.push(
        `redisSecureTrustStorePath: expected a PEM CA file, got ${describeValue(pathGiven)} (no file at ${trustStore})`,
      );
    } else if (!secure) {
      warnings.push(
        'redisSecureTrustStorePath is not used: TLS is off (set redisSecureEnabled: true or use rediss://)',
      );
    }
  }
  const password = readKey(found, TOP_LEVEL_TABLE, 'redisSecureTrustStorePassword', problems, {
    secret: true,
  });
  return {
    redisUrl: url,
    redisMaxmemory: readKey(found, TOP_LEVEL_TABLE, 'redisMaxmemory', problems),
    redisPersistence: readKey(found, TOP_LEVEL_TABLE, 'redisPersistence', problems),
    redisTimeout: readKey(found, TOP_LEVEL_TABLE, 'redisTimeout', problems),
    redisMinReplicas: readKey(found, TOP_LEVEL_TABLE, 'redisMinReplicas', problems),
    redisSecureEnabled: secure,
    redisSecureTrustStorePath: trustStore,
    redisSecureTrustStorePassword: password,
  };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * `http:` present means "run a frontend": empty (or `true`) takes every default, a mapping
 * sets options, `false` is the same as leaving the section out.
 */
export function resolveHttp(
  entry: Entry | undefined,
  inherited: HttpInheritance,
  problems: string[],
  warnings: string[],
): HttpOptions | undefined {
  if (entry === undefined || entry.value === false) return undefined;
  let section: Record<string, unknown>;
  if (isEmptyValue(entry.value) || entry.value === true) section = {};
  else if (isPlainMapping(entry.value)) section = entry.value;
  else {
    problems.push(
      `${entry.label}: expected a mapping of frontend options (or nothing, for the defaults), got ${describeValue(entry.value)}`,
    );
    return undefined;
  }
  const resolved = resolveHttpSection(section, inherited, `${entry.label}.`);
  problems.push(...resolved.problems);
  warnings.push(...resolved.warnings);
  return resolved.options;
}

/** One warning per BigDL key that was given a value we do not act on. */
export function warnIgnoredBigDlKeys(found: Found, warnings: string[]): void {
  for (const [key, reason] of Object.entries(IGNORED_BIGDL_KEYS)) {
    const entry = found.get(key);
    if (entry === undefined || isEmptyValue(entry.value)) continue;
    warnings.push(`${entry.label} is a BigDL key that cluster-serving accepts and ignores: ${reason}`);
  }
}
