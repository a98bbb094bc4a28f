import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { afterEach, describe, expect, it } from 'vitest';
import importCycles from '../../../eslint-rules/import-cycles.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Finding {
  readonly file: string;
  readonly rule: string | null;
  readonly message: string;
}

/** Writes `files` (path under src/ → text) to a fresh folder and lints them with both rules. */
async function lint(files: Record<string, string>): Promise<Finding[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cs-cycles-'));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, 'src', name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  const eslint = new ESLint({
    cwd: dir,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser },
        plugins: { cycles: importCycles },
        rules: {
          'cycles/no-file-cycle': ['error', { root: 'src' }],
          'cycles/no-folder-cycle': ['error', { root: 'src' }],
        },
      },
    ],
  });
  const results = await eslint.lintFiles(['src/**/*.ts']);
  return results.flatMap((r) =>
    r.messages.map((m) => ({ file: path.relative(dir, r.filePath), rule: m.ruleId, message: m.message })),
  );
}

describe('import cycle lint rules', () => {
  it('report a cycle made of type-only imports, on both files', async () => {
    const findings = await lint({
      'worker/runner.ts':
        "import type { Reply } from './thread.js';\nexport type Request = { reply?: Reply };\n",
      'worker/thread.ts':
        "import type { Request } from './runner.js';\nexport type Reply = { request?: Request };\n",
    });
    expect(findings.map((f) => [f.file, f.rule])).toEqual([
      ['src/worker/runner.ts', 'cycles/no-file-cycle'],
      ['src/worker/thread.ts', 'cycles/no-file-cycle'],
    ]);
    expect(findings[0]?.message).toContain('worker/runner.ts -> worker/thread.ts -> worker/runner.ts');
  });

  it('report a longer cycle through a dynamic import', async () => {
    const findings = await lint({
      'a.ts': "import { b } from './b.js';\nexport const a = (): number => b;\n",
      'b.ts': "import { c } from './c.js';\nexport const b = c;\n",
      'c.ts': "export const c = 1;\nexport const later = (): Promise<unknown> => import('./a.js');\n",
    });
    expect(findings.filter((f) => f.rule === 'cycles/no-file-cycle').map((f) => f.file)).toEqual([
      'src/a.ts',
      'src/b.ts',
      'src/c.ts',
    ]);
  });

  it('report folders that import each other even when no file cycle exists', async () => {
    const findings = await lint({
      'config/defaults.ts':
        "import { prefix } from '../redis/keys.js';\nexport const output = prefix('x');\n",
      'config/url.ts': 'export const parseUrl = (s: string): URL => new URL(s);\n',
      'redis/keys.ts': 'export const prefix = (job: string): string => `p_${job}:`;\n',
      'redis/connection.ts':
        "import { parseUrl } from '../config/url.js';\nexport const connect = parseUrl;\n",
    });
    expect(findings.map((f) => [f.file, f.rule])).toEqual([
      ['src/config/defaults.ts', 'cycles/no-folder-cycle'],
      ['src/redis/connection.ts', 'cycles/no-folder-cycle'],
    ]);
    expect(findings[0]?.message).toContain('config -> redis -> config');
  });

  it('accept imports that point one way', async () => {
    const findings = await lint({
      'contracts/messages.ts': "export type Message = { type: 'ping' };\n",
      'worker/runner.ts':
        "import type { Message } from '../contracts/messages.js';\nexport const m: Message = { type: 'ping' };\n",
      'worker/thread.ts':
        "import type { Message } from '../contracts/messages.js';\nimport { m } from './runner.js';\nexport const n: Message = m;\n",
      'cli/main.ts': "export const run = (): Promise<unknown> => import('../worker/thread.js');\n",
    });
    expect(findings).toEqual([]);
  });
});
