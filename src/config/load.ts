import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CORE_SCHEMA, load as parseYaml, YAMLException } from 'js-yaml';
import { CsError, reasonOf } from '../errors/registry.js';
import {
  addEntry,
  collectKeys,
  isPlainMapping,
  readEntry,
  readKey,
  takeLegacySections,
  type Entry,
} from './collect-keys.js';
import { resolveImage } from './image-keys.js';
import type { ValueOf } from './key-spec.js';
import { HTTP_KEYS, TOP_LEVEL_KEYS, TOP_LEVEL_TABLE } from './keys.js';
import {
  resolveHttp,
  resolveModel,
  resolveRedis,
  resolveWorkerCounts,
  warnIgnoredBigDlKeys,
} from './resolve-parts.js';
import type { LoadedConfig, ServingConfig } from './types.js';
import { describeValue } from './value-parsers.js';

export { DEFAULTS } from './defaults.js';
export { resolveHttpOptions } from './http-options.js';
export { resolveModelFile } from './model-file.js';
export { normaliseRedisUrl } from './redis-url.js';

export interface ResolveOptions {
  /** Where the config came from; named in messages and kept in the result. */
  readonly configPath?: string;
  /** Wins over the file's redisUrl (`cluster-serving worker --redis`). */
  readonly redisUrl?: string;
}

/**
 * Reads a config.yaml and returns it validated, resolved and deeply frozen. A path that is
 * a directory means its config.yaml. Throws CS_ERR_CONFIG_NOT_FOUND when there is no file,
 * CS_ERR_CONFIG_INVALID for YAML syntax errors and invalid keys or values (every problem
 * in one message), and the model's own error when the model is the only problem.
 */
export function loadConfig(path: string, options: { redisUrl?: string } = {}): LoadedConfig {
  const configPath = configFileAt(resolve(path));
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (error) {
    throw new CsError('CS_ERR_CONFIG_INVALID', `cannot read ${configPath}: ${reasonOf(error)}`, {
      cause: error,
    });
  }
  let raw: unknown;
  try {
    // The core schema: `2024-01-01` stays text, as a jobName or path should.
    raw = parseYaml(text, { schema: CORE_SCHEMA, filename: configPath });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    const line = typeof error.mark?.line === 'number' ? ` line ${error.mark.line + 1}` : '';
    throw new CsError('CS_ERR_CONFIG_INVALID', `${configPath}${line}: not valid YAML: ${error.reason}`, {
      cause: error,
    });
  }
  return resolveConfig(raw, dirname(configPath), { ...options, configPath });
}

function configFileAt(path: string): string {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    throw new CsError(
      'CS_ERR_CONFIG_NOT_FOUND',
      `config file ${path} does not exist: write a commented template with \`cluster-serving init\` ` +
        'and fill in modelPath, or pass the file with -c <path>',
    );
  }
  return isDirectory ? configFileAt(join(path, 'config.yaml')) : path;
}

/**
 * Validates an already parsed config (a YAML mapping) and resolves it: relative paths
 * against `baseDir`, defaults for absent or empty keys, modelPath to the `.onnx` file.
 * Every problem is collected before anything is thrown.
 */
export function resolveConfig(raw: unknown, baseDir: string, options: ResolveOptions = {}): LoadedConfig {
  const problems: string[] = [];
  const warnings: string[] = [];
  const configPath = options.configPath === undefined ? undefined : resolve(options.configPath);
  const found = collectTopLevel(raw, problems, warnings);

  const model = resolveModel(found, baseDir, problems);
  const jobName = readKey(found, TOP_LEVEL_TABLE, 'jobName', problems);
  const workers = resolveWorkerCounts(found, problems, warnings);
  const redis = resolveRedis(found, baseDir, options.redisUrl, problems, warnings);
  const http = resolveHttp(
    found.get('http'),
    { redisUrl: redis.redisUrl, jobName, baseDir },
    problems,
    warnings,
  );
  const read = <K extends keyof typeof TOP_LEVEL_TABLE & string>(
    name: K,
  ): ValueOf<(typeof TOP_LEVEL_TABLE)[K]> => readKey(found, TOP_LEVEL_TABLE, name, problems);
  const rest = {
    postProcessing: read('postProcessing'),
    inputAlreadyBatched: read('inputAlreadyBatched'),
    image: resolveImage((key, parser) => readEntry(found, key, parser, problems)),
    maxBatchSize: read('maxBatchSize'),
    maxBatchDelayMs: read('maxBatchDelayMs'),
    maxQueueLength: read('maxQueueLength'),
    resultTtlSeconds: read('resultTtlSeconds'),
    maxDeliveries: read('maxDeliveries'),
    maxRecordBatch: read('maxRecordBatch'),
    maxRecordBytes: read('maxRecordBytes'),
    cpuAffinity: read('cpuAffinity'),
  };
  warnIgnoredBigDlKeys(found, warnings);

  if (problems.length > 0) {
    // A config that is right but for its model fails with the model's own error (and exit code).
    if (problems.length === 1 && model.error !== undefined) throw model.error;
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = problems.map((problem) => `  - ${problem}`).join('\n');
    throw new CsError('CS_ERR_CONFIG_INVALID', `${configPath ?? 'the config'} has ${count}:\n${lines}`);
  }

  const config: ServingConfig = {
    configPath,
    modelPath: model.file,
    jobName,
    ...workers,
    ...redis,
    ...rest,
    http,
  };
  return deepFreeze({ config, warnings });
}

function collectTopLevel(raw: unknown, problems: string[], warnings: string[]): Map<string, Entry> {
  if (raw === null || raw === undefined) return new Map();
  if (!isPlainMapping(raw)) {
    problems.push(`the file must be a mapping of "key: value" lines, got ${describeValue(raw)}`);
    return new Map();
  }
  const { rest, legacy } = takeLegacySections(raw, warnings);
  const scope = { known: TOP_LEVEL_KEYS, prefix: '', elsewhere: HTTP_KEYS.map((key) => `http.${key}`) };
  const found = collectKeys(rest, scope, problems);
  for (const { canonical, entry } of legacy) addEntry(found, canonical, entry, problems);
  return found;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
