/**
 * Two lint rules that keep import cycles out of src/, counting every import (type-only and
 * dynamic ones too: a type-only cycle still ties two files' changes together).
 *   no-file-cycle:   an import whose target imports this file back, directly or not.
 *   no-folder-cycle: an import from folder A into folder B while B reaches A (folders are
 *                    the first level under `root`, the processes and core areas of STYLE.md).
 * The import graph is read with TypeScript's scanner (no type-checking), once per lint run and
 * again only for files whose mtime changed, so an editor's long-lived ESLint stays current.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** @type {Map<string, { mtimeMs: number, imports: { specifier: string, target: string }[] }>} */
const parsed = new Map();

function importsOf(file, text) {
  const info = ts.preProcessFile(text, true, true);
  const imports = [];
  for (const ref of info.importedFiles) {
    const target = resolveRelative(file, ref.fileName);
    if (target !== undefined) imports.push({ specifier: ref.fileName, target });
  }
  return imports;
}

/** Relative specifiers only: packages cannot import our files back. `./x.js` is `./x.ts` in source. */
function resolveRelative(from, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  const stem = base.replace(/\.(js|mjs|cjs)$/, '');
  for (const candidate of [`${stem}.ts`, `${stem}.mts`, base, `${base}/index.ts`]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** file → the files it imports, for every .ts file under root; `current` from the editor buffer. */
function graphOf(root, current) {
  const graph = new Map();
  for (const name of readdirSync(root, { recursive: true })) {
    const file = path.join(root, String(name));
    if (!/\.m?ts$/.test(file) || file.endsWith('.d.ts')) continue;
    if (file === current.file) {
      graph.set(file, importsOf(file, current.text));
      continue;
    }
    const { mtimeMs } = statSync(file);
    let entry = parsed.get(file);
    if (entry === undefined || entry.mtimeMs !== mtimeMs) {
      entry = { mtimeMs, imports: importsOf(file, readFileSync(file, 'utf8')) };
      parsed.set(file, entry);
    }
    graph.set(
      file,
      entry.imports.map((i) => i.target),
    );
  }
  graph.set(
    current.file,
    importsOf(current.file, current.text).map((i) => i.target),
  );
  return graph;
}

/** A shortest path from `from` to `to` in the graph, or undefined. */
function pathBetween(graph, from, to) {
  const previous = new Map([[from, undefined]]);
  const queue = [from];
  while (queue.length > 0) {
    const node = queue.shift();
    if (node === to) {
      const route = [];
      for (let at = node; at !== undefined; at = previous.get(at)) route.unshift(at);
      return route;
    }
    for (const next of graph.get(node) ?? []) {
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return undefined;
}

function folderOf(root, file) {
  return path.relative(root, file).split(path.sep)[0];
}

const schema = [
  {
    type: 'object',
    properties: { root: { type: 'string' } },
    required: ['root'],
    additionalProperties: false,
  },
];

function makeRule(kind) {
  return {
    meta: {
      type: 'problem',
      docs: {
        description:
          kind === 'file'
            ? 'forbid imports (type-only ones too) that lead back to the importing file'
            : 'forbid imports between top-level folders that lead back to the importing folder',
      },
      schema,
      messages: {
        cycle:
          'import cycle: {{route}}. Move the shared part (a contract: src/contracts/) so one side stops importing the other.',
      },
    },
    create(context) {
      const root = path.resolve(context.cwd, context.options[0].root);
      const file = path.resolve(context.filename);
      if (path.relative(root, file).startsWith('..')) return {};
      const text = context.sourceCode.text;
      let graph;
      const show = (f) => path.relative(root, f);
      function check(node, specifier) {
        const target = resolveRelative(file, specifier);
        if (target === undefined) return;
        graph ??= graphOf(root, { file, text });
        if (kind === 'file') {
          const back = pathBetween(graph, target, file);
          if (back !== undefined) {
            context.report({
              node,
              messageId: 'cycle',
              data: { route: [file, ...back].map(show).join(' -> ') },
            });
          }
          return;
        }
        const here = folderOf(root, file);
        const there = folderOf(root, target);
        if (here === there) return;
        const folders = new Map();
        for (const [from, targets] of graph) {
          const a = folderOf(root, from);
          if (!folders.has(a)) folders.set(a, new Set());
          for (const to of targets) {
            const b = folderOf(root, to);
            if (b !== a) folders.get(a).add(b);
          }
        }
        const back = pathBetween(folders, there, here);
        if (back !== undefined) {
          context.report({ node, messageId: 'cycle', data: { route: [here, ...back].join(' -> ') } });
        }
      }
      const fromSource = (node) => {
        if (node.source?.type === 'Literal' && typeof node.source.value === 'string')
          check(node, node.source.value);
      };
      return {
        ImportDeclaration: fromSource,
        ExportNamedDeclaration: fromSource,
        ExportAllDeclaration: fromSource,
        ImportExpression: fromSource,
      };
    },
  };
}

export default {
  meta: { name: 'cluster-serving-import-cycles' },
  rules: { 'no-file-cycle': makeRule('file'), 'no-folder-cycle': makeRule('folder') },
};
