import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderConfigDocs, type ConfigDocs } from './config-docs.js';

/** `npm run docs:config`: writes the config key tables into the README, docs/http.md and config/config.yaml. */

const ROOT = resolve(import.meta.dirname, '..');
const FILES: Record<keyof ConfigDocs, string> = {
  readme: resolve(ROOT, 'README.md'),
  httpDoc: resolve(ROOT, 'docs/http.md'),
  template: resolve(ROOT, 'config/config.yaml'),
};

const current: ConfigDocs = {
  readme: readFileSync(FILES.readme, 'utf8'),
  httpDoc: readFileSync(FILES.httpDoc, 'utf8'),
  template: readFileSync(FILES.template, 'utf8'),
};
const rendered = await renderConfigDocs(current, FILES.readme);
for (const name of Object.keys(FILES) as Array<keyof ConfigDocs>) {
  if (rendered[name] === current[name]) continue;
  writeFileSync(FILES[name], rendered[name]);
  console.log(`updated ${FILES[name]}`);
}
