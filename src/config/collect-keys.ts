import type { KeyTable, ValueOf } from './key-spec.js';
import { LEGACY_KEYS, LEGACY_SECTIONS } from './keys.js';
import { describeValue, type ValueParser } from './value-parsers.js';

/** One key as the user wrote it: `label` is their spelling (with its section), for messages. */
export interface Entry {
  readonly label: string;
  readonly value: unknown;
}

export interface KeyScope {
  /** Canonical spellings of the keys read in this scope. */
  readonly known: readonly string[];
  /** Put before labels in messages: '' at the top level, 'http.' inside the section. */
  readonly prefix: string;
  /** Keys of other scopes, as full labels (`http.port`), offered when a key is in the wrong place. */
  readonly elsewhere?: readonly string[];
}

export function isPlainMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An empty value means "the default", as in BigDL's template where keys were left blank. */
export function isEmptyValue(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}

/**
 * Maps canonical key → entry, matching names case-insensitively. Unknown keys and keys
 * given twice (in two spellings) become problems; collection goes on so that one message
 * can list everything.
 */
export function collectKeys(
  raw: Iterable<readonly [string, unknown]>,
  scope: KeyScope,
  problems: string[],
): Map<string, Entry> {
  const byLowerCase = new Map(scope.known.map((key) => [key.toLowerCase(), key]));
  const found = new Map<string, Entry>();
  for (const [written, value] of raw) {
    const label = `${scope.prefix}${written}`;
    const canonical = byLowerCase.get(written.toLowerCase());
    if (canonical === undefined) {
      problems.push(unknownKeyProblem(written, scope));
      continue;
    }
    addEntry(found, canonical, { label, value }, problems);
  }
  return found;
}

/**
 * The parsed value of a key, or undefined when it is absent or empty (the caller applies
 * the default) or invalid (then a problem line names the key, the expected form and the
 * value received).
 */
export function readEntry<T>(
  found: ReadonlyMap<string, Entry>,
  key: string,
  parser: ValueParser<T>,
  problems: string[],
  options: { secret?: boolean } = {},
): T | undefined {
  const entry = found.get(key);
  if (entry === undefined || isEmptyValue(entry.value)) return undefined;
  const parsed = parser(entry.value);
  if (parsed.ok) return parsed.value;
  problems.push(`${entry.label}: expected ${parsed.expected}, got ${describeValue(entry.value, options)}`);
  return undefined;
}

/** A key of `table` read as readEntry does, or the table's default when absent, empty or invalid. */
export function readKey<T extends KeyTable, K extends keyof T & string>(
  found: ReadonlyMap<string, Entry>,
  table: T,
  name: K,
  problems: string[],
  options: { secret?: boolean } = {},
): ValueOf<T[K]> {
  const spec = table[name] as T[K];
  const parser = spec.parse as ValueParser<ValueOf<T[K]>>;
  return readEntry(found, name, parser, problems, options) ?? (spec.default as ValueOf<T[K]>);
}

/** Adds an entry, reporting a second spelling of a key already seen. */
export function addEntry(
  found: Map<string, Entry>,
  canonical: string,
  entry: Entry,
  problems: string[],
): void {
  const earlier = found.get(canonical);
  if (earlier === undefined) {
    found.set(canonical, entry);
    return;
  }
  problems.push(
    `${entry.label}: given twice (also as ${earlier.label}; keys are case-insensitive), keep one of them`,
  );
}

/**
 * Splits Analytics Zoo 0.x sections (`model: {path: ...}`) off the top level. Sub-keys
 * with a flat equivalent come back as entries for that key; the others are not read and
 * earn a warning each. Top-level keys that are not such a section are returned untouched.
 */
export function takeLegacySections(
  raw: Record<string, unknown>,
  warnings: string[],
): { rest: Array<[string, unknown]>; legacy: Array<{ canonical: string; entry: Entry }> } {
  // Pairs, not an object: a key such as `__proto__` must stay a key (and be reported unknown).
  const rest: Array<[string, unknown]> = [];
  const legacy: Array<{ canonical: string; entry: Entry }> = [];
  for (const [written, value] of Object.entries(raw)) {
    const section = written.toLowerCase();
    if (!LEGACY_SECTIONS.includes(section) || !(isPlainMapping(value) || value === null)) {
      rest.push([written, value]);
      continue;
    }
    for (const [subWritten, subValue] of Object.entries(value ?? {})) {
      const label = `${written}.${subWritten}`;
      const canonical = LEGACY_KEYS.get(`${section}.${subWritten.toLowerCase()}`);
      if (canonical === undefined) {
        if (!isEmptyValue(subValue))
          warnings.push(`${label} (an Analytics Zoo 0.x key) is not read by cluster-serving`);
        continue;
      }
      legacy.push({ canonical, entry: { label, value: legacyValue(canonical, subValue) } });
    }
  }
  return { rest, legacy };
}

/** `params.top_n: 5` asked for the top 5 classes, which is `postProcessing: topN(5)` today. */
function legacyValue(canonical: string, value: unknown): unknown {
  if (canonical !== 'postProcessing') return value;
  const text =
    typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : undefined;
  return text !== undefined && /^\d+$/.test(text) ? `topN(${text})` : value;
}

function unknownKeyProblem(written: string, scope: KeyScope): string {
  const label = `${scope.prefix}${written}`;
  const candidates = [...scope.known.map((key) => `${scope.prefix}${key}`), ...(scope.elsewhere ?? [])];
  const suggestion = closestKey(written, candidates);
  const hint = suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`;
  return `unknown key "${label}"${hint}`;
}

/**
 * The candidate nearest to `written` by edit distance (case-insensitive, compared with the
 * candidate's last segment so `port` finds `http.port`), when it is near enough to be a
 * plausible typo: at most a third of the name's length, and at least 1.
 */
export function closestKey(written: string, candidates: readonly string[]): string | undefined {
  const wanted = written.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(wanted.length / 3)) + 1;
  for (const candidate of candidates) {
    const lastSegment = candidate.slice(candidate.lastIndexOf('.') + 1).toLowerCase();
    const distance = editDistance(wanted, lastSegment);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // A name cut short (`model`, `redis`) is too far from `modelPath` by edits alone.
  if (best === undefined && wanted.length >= 4) {
    best = candidates.find((candidate) =>
      candidate
        .slice(candidate.lastIndexOf('.') + 1)
        .toLowerCase()
        .startsWith(wanted),
    );
  }
  return best;
}

/** Levenshtein distance with adjacent transpositions counted as one edit (typos swap letters). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i += 1) d[i * cols] = i;
  for (let j = 0; j < cols; j += 1) d[j] = j;
  for (let i = 1; i < rows; i += 1) {
    for (let j = 1; j < cols; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, at(i - 2, j - 2) + 1);
      }
      d[i * cols + j] = value;
    }
  }
  return at(a.length, b.length);
}
