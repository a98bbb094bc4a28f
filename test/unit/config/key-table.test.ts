import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeTable, renderConfigDocs, templateWithDocs } from '../../../scripts/config-docs.js';
import { DEFAULTS } from '../../../src/config/defaults.js';
import { IMAGE_TABLE } from '../../../src/config/image-keys.js';
import { HTTP_TABLE, TOP_LEVEL_KEYS, TOP_LEVEL_PARSERS, TOP_LEVEL_TABLE } from '../../../src/config/keys.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const FILES = {
  readme: resolve(ROOT, 'README.md'),
  httpDoc: resolve(ROOT, 'docs/http.md'),
  template: resolve(ROOT, 'config/config.yaml'),
};
const CURRENT = {
  readme: readFileSync(FILES.readme, 'utf8'),
  httpDoc: readFileSync(FILES.httpDoc, 'utf8'),
  template: readFileSync(FILES.template, 'utf8'),
};

/** The text of a README section, from its `## ` heading to the next one. */
function section(heading: string): string {
  const start = CURRENT.readme.indexOf(`\n## ${heading}\n`);
  expect(start, `README section ${heading}`).toBeGreaterThanOrEqual(0);
  const end = CURRENT.readme.indexOf('\n## ', start + 1);
  return CURRENT.readme.slice(start, end < 0 ? undefined : end);
}

const TOP_LEVEL = [...Object.keys(TOP_LEVEL_TABLE), ...Object.keys(IMAGE_TABLE)];
const ALL_SPECS = Object.entries({ ...TOP_LEVEL_TABLE, ...IMAGE_TABLE, ...HTTP_TABLE });

describe('the config key tables', () => {
  it('are where the known keys, the parsers and the defaults come from', () => {
    for (const key of TOP_LEVEL) expect(TOP_LEVEL_KEYS, key).toContain(key);
    expect(Object.keys(TOP_LEVEL_PARSERS).sort()).toEqual([...new Set(TOP_LEVEL)].sort());
    for (const [key, spec] of Object.entries({ ...TOP_LEVEL_TABLE, ...IMAGE_TABLE })) {
      expect(DEFAULTS[key as keyof typeof DEFAULTS], key).toEqual(spec.default);
    }
    for (const [key, spec] of Object.entries(HTTP_TABLE)) {
      expect(DEFAULTS.http[key as keyof typeof HTTP_TABLE], `http.${key}`).toEqual(spec.default);
    }
  });

  it('give every key a one-line doc', () => {
    for (const [key, spec] of ALL_SPECS) {
      expect(spec.doc, key).toMatch(/^\S.{9,}$/);
      expect(spec.doc.length, key).toBeLessThanOrEqual(90);
    }
  });

  it('have every key in the config.yaml template', () => {
    const named = (key: string): boolean => new RegExp(`^#?\\s*${key}:`, 'm').test(CURRENT.template);
    for (const key of ['modelPath', ...TOP_LEVEL, 'http']) expect(named(key), key).toBe(true);
    for (const key of Object.keys(HTTP_TABLE)) expect(named(key), `http.${key}`).toBe(true);
  });

  it("have every key in the manual: the README's config.yaml table, the frontend's options in docs/http.md", () => {
    const configTable = section('config.yaml');
    for (const key of TOP_LEVEL_KEYS) expect(configTable, key).toContain(`\`${key}`);
    // The README names the main frontend options and sends the reader to docs/http.md for every one.
    expect(section('HTTP API')).toContain('(docs/http.md)');
    for (const key of Object.keys(HTTP_TABLE)) expect(CURRENT.httpDoc, `http.${key}`).toContain(`\`${key}\``);
  });

  it('are what the README, docs/http.md and the template say, doc lines included (`npm run docs:config` writes them)', async () => {
    const rendered = await renderConfigDocs(CURRENT, FILES.readme);
    expect(CURRENT.readme, 'README.md: run npm run docs:config').toBe(rendered.readme);
    expect(CURRENT.httpDoc, 'docs/http.md: run npm run docs:config').toBe(rendered.httpDoc);
    expect(CURRENT.template, 'config/config.yaml: run npm run docs:config').toBe(rendered.template);
    for (const [key, spec] of ALL_SPECS) {
      expect(CURRENT.template, key).toMatch(new RegExp(`^#? *# ${escape(spec.doc)}\n#? *${key}:`, 'm'));
    }
  });

  it('write a key whose doc changed into every file, and only its line', async () => {
    const changed = {
      ...CURRENT,
      template: CURRENT.template.replace('# seconds a result hash lives', '# old'),
    };
    expect(changed.template).not.toBe(CURRENT.template);
    expect(templateWithDocs(changed.template)).toBe(CURRENT.template);
    const row = readmeTable().find((line) => line.startsWith('| `resultTtlSeconds` |'));
    expect(row).toBe('| `resultTtlSeconds` | `600` | seconds a result hash lives |');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
