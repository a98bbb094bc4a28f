import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config/defaults.js';
import { IMAGE_PARSERS } from '../../../src/config/image-keys.js';
import { HTTP_TABLE, TOP_LEVEL_KEYS, TOP_LEVEL_PARSERS, TOP_LEVEL_TABLE } from '../../../src/config/keys.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const TEMPLATE = readFileSync(resolve(ROOT, 'config/config.yaml'), 'utf8');
const README = readFileSync(resolve(ROOT, 'README.md'), 'utf8');

/** The text of a README section, from its `## ` heading to the next one. */
function section(heading: string): string {
  const start = README.indexOf(`\n## ${heading}\n`);
  expect(start, `README section ${heading}`).toBeGreaterThanOrEqual(0);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

const TOP_LEVEL = [...Object.keys(TOP_LEVEL_TABLE), ...Object.keys(IMAGE_PARSERS)];

describe('the config key tables', () => {
  it('are where the known keys, the parsers and the defaults come from', () => {
    for (const key of TOP_LEVEL) expect(TOP_LEVEL_KEYS, key).toContain(key);
    expect(Object.keys(TOP_LEVEL_PARSERS).sort()).toEqual([...new Set(TOP_LEVEL)].sort());
    for (const [key, spec] of Object.entries(TOP_LEVEL_TABLE)) {
      expect(DEFAULTS[key as keyof typeof TOP_LEVEL_TABLE], key).toEqual(spec.default);
    }
    for (const [key, spec] of Object.entries(HTTP_TABLE)) {
      expect(DEFAULTS.http[key as keyof typeof HTTP_TABLE], `http.${key}`).toEqual(spec.default);
    }
  });

  it('have every key in the config.yaml template', () => {
    const named = (key: string): boolean => new RegExp(`^#?\\s*${key}:`, 'm').test(TEMPLATE);
    for (const key of ['modelPath', ...TOP_LEVEL, 'http']) expect(named(key), key).toBe(true);
    for (const key of Object.keys(HTTP_TABLE)) expect(named(key), `http.${key}`).toBe(true);
  });

  it("have every key in the manual: the README's config.yaml table, the frontend's options in docs/http.md", () => {
    const configTable = section('config.yaml');
    for (const key of TOP_LEVEL_KEYS) expect(configTable, key).toContain(`\`${key}`);
    // The README names the main frontend options and sends the reader to docs/http.md for every one.
    expect(section('HTTP API')).toContain('(docs/http.md)');
    const httpDoc = readFileSync(resolve(ROOT, 'docs', 'http.md'), 'utf8');
    for (const key of Object.keys(HTTP_TABLE)) expect(httpDoc, `http.${key}`).toContain(`\`${key}\``);
  });
});
