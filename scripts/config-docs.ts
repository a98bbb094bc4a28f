import { format, resolveConfig } from 'prettier';
import { IMAGE_TABLE } from '../src/config/image-keys.js';
import type { AnyKeySpec, KeyTable } from '../src/config/key-spec.js';
import { HTTP_TABLE, IGNORED_BIGDL_KEYS, TOP_LEVEL_KEYS, TOP_LEVEL_TABLE } from '../src/config/keys.js';

/**
 * The config key tables (src/config/keys.ts, image-keys.ts) written into the docs: the
 * README's config.yaml table, docs/http.md's options table, and the doc line above each key
 * of config/config.yaml. `npm run docs:config` writes them; test/unit/config/key-table.test.ts
 * fails when a file differs from what this renders, so a key is documented where it is declared.
 */

/** The keys that are not table rows: their README rows are written here. */
const MODEL_PATH_ROW = ['`modelPath`', '(required)', 'a dir with one `.onnx` file, or the file'] as const;
const HTTP_ROW = ['`http:`', 'absent', 'frontend options ([HTTP API](#http-api))'] as const;

const TOP_LEVEL: KeyTable = { ...TOP_LEVEL_TABLE, ...IMAGE_TABLE };

export function shownDefault(spec: AnyKeySpec): string {
  if (spec.shown !== undefined) return spec.shown;
  const value = spec.default;
  if (value === undefined) return 'none';
  if (Array.isArray(value)) return `\`${value.join(',')}\``;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return `\`${value}\``;
  throw new Error(`a key whose default is ${typeof value} needs \`shown\` in its table row`);
}

function tableRows(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)];
}

/** The lines of `text` with the first table after `## heading` replaced by `table`. */
function replaceTable(text: string, heading: string, table: readonly string[], file: string): string {
  const lines = text.split('\n');
  const at = lines.indexOf(`## ${heading}`);
  if (at < 0) throw new Error(`${file} has no "## ${heading}" section`);
  const start = lines.findIndex((line, index) => index > at && line.startsWith('|'));
  if (start < 0) throw new Error(`${file}: no table under "## ${heading}"`);
  let end = start;
  while (end < lines.length && (lines[end] ?? '').startsWith('|')) end += 1;
  return [...lines.slice(0, start), ...table, ...lines.slice(end)].join('\n');
}

export function readmeTable(): string[] {
  const rows = TOP_LEVEL_KEYS.filter((name) => !(name in IGNORED_BIGDL_KEYS)).map((name) => {
    if (name === 'modelPath') return MODEL_PATH_ROW;
    if (name === 'http') return HTTP_ROW;
    const spec = TOP_LEVEL[name];
    if (spec === undefined) throw new Error(`TOP_LEVEL_KEYS names ${name}, which no key table has`);
    return [`\`${name}\``, shownDefault(spec), spec.doc];
  });
  return tableRows(['key', 'default', 'meaning'], rows);
}

export function httpTable(): string[] {
  const rows = Object.entries(HTTP_TABLE).map(([name, spec]: [string, AnyKeySpec]) => [
    `\`${name}\``,
    shownDefault(spec),
    spec.doc,
  ]);
  return tableRows(['option', 'default', 'meaning'], rows);
}

/**
 * config.yaml with the line directly above each table key (`key:` at the top level,
 * `#   key:` in the commented-out http section) set to that key's doc line. A comment line
 * there is replaced, anything else gets the doc line inserted above the key: longer
 * explanations go above the doc line.
 */
export function templateWithDocs(template: string): string {
  const out: string[] = [];
  for (const line of template.split('\n')) {
    const doc = docLineFor(line);
    if (doc !== undefined) {
      const above = out.at(-1);
      const isComment = above !== undefined && doc.isComment(above);
      if (isComment) out[out.length - 1] = doc.text;
      else out.push(doc.text);
    }
    out.push(line);
  }
  return out.join('\n');
}

/** `# kafkaUrl: ...`: a key left commented out, not a comment to replace. */
function isCommentedKey(line: string): boolean {
  const name = /^# ([A-Za-z_]+):/.exec(line)?.[1];
  return name !== undefined && TOP_LEVEL_KEYS.includes(name);
}

function docLineFor(line: string): { text: string; isComment: (line: string) => boolean } | undefined {
  const top = /^([A-Za-z_]+):/.exec(line);
  const topSpec = top === null ? undefined : TOP_LEVEL[top[1] ?? ''];
  if (topSpec !== undefined) {
    return {
      text: `# ${topSpec.doc}`,
      isComment: (above) => above.startsWith('# ') && !isCommentedKey(above),
    };
  }
  const http = /^# {3}([A-Za-z_]+):/.exec(line);
  const httpSpec = http === null ? undefined : (HTTP_TABLE as KeyTable)[http[1] ?? ''];
  if (httpSpec !== undefined) {
    return { text: `#   # ${httpSpec.doc}`, isComment: (above) => above.startsWith('#   # ') };
  }
  return undefined;
}

export interface ConfigDocs {
  readonly readme: string;
  readonly httpDoc: string;
  readonly template: string;
}

/** The three files as they should be, given their current text (formatted as `npm run lint` wants). */
export async function renderConfigDocs(current: ConfigDocs, readmePath: string): Promise<ConfigDocs> {
  const options = { ...(await resolveConfig(readmePath)), parser: 'markdown' };
  return {
    readme: await format(replaceTable(current.readme, 'config.yaml', readmeTable(), 'README.md'), options),
    httpDoc: await format(replaceTable(current.httpDoc, 'Options', httpTable(), 'docs/http.md'), options),
    template: templateWithDocs(current.template),
  };
}
