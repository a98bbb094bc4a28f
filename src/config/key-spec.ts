import type { ValueParser } from './value-parsers.js';

/**
 * One config key as a table row: how its value is read, what it is when absent or empty, and
 * the line that documents it. The tables (keys.ts, image-keys.ts) are the one place a key is
 * declared: parsers, defaults, the config types (ValuesOf) and the README's and docs/http.md's
 * key tables (`npm run docs:config`) all come from them.
 */
export interface KeySpec<P, D> {
  readonly parse: ValueParser<P>;
  readonly default: D;
  /** One line: what the key does, with its units; the meaning column of the docs' key tables. */
  readonly doc: string;
  /** How the docs show the default, when the value itself does not say it (e.g. "the cores"). */
  readonly shown: string | undefined;
}

export type AnyKeySpec = KeySpec<unknown, unknown>;

export type KeyTable = Readonly<Record<string, AnyKeySpec>>;

/** D is held to P or undefined so that a literal default (`'stretch'`) keeps its parser's union type. */
export function key<P, D extends P | undefined>(
  parse: ValueParser<P>,
  defaultValue: D,
  doc: string,
  shown?: string,
): KeySpec<P, D> {
  return Object.freeze({ parse, default: defaultValue, doc, shown });
}

/** What a key resolves to: its parsed value, or its default when absent or empty. */
export type ValueOf<S> = S extends KeySpec<infer P, infer D> ? P | D : never;

export type ValuesOf<T extends KeyTable> = { readonly [K in keyof T]: ValueOf<T[K]> };

export type ParsersOf<T extends KeyTable> = { readonly [K in keyof T]: T[K]['parse'] };

export type DefaultsOf<T extends KeyTable> = { readonly [K in keyof T]: T[K]['default'] };

export function parsersOf<T extends KeyTable>(table: T): ParsersOf<T> {
  return Object.fromEntries(Object.entries(table).map(([name, spec]) => [name, spec.parse])) as ParsersOf<T>;
}

export function defaultsOf<T extends KeyTable>(table: T): DefaultsOf<T> {
  return Object.fromEntries(
    Object.entries(table).map(([name, spec]) => [name, spec.default]),
  ) as DefaultsOf<T>;
}
