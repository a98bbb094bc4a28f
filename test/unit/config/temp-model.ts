import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** What the loader's cheap check accepts: field 1 (ir_version) = 7, then anything. */
export const ONNX_BYTES = Buffer.from([0x08, 0x07, 0x12, 0x04, 0x74, 0x65, 0x73, 0x74]);

/** Temp directories for one test file; `cleanup` (in afterAll) removes them all. */
export class TempDirs {
  private readonly made: string[] = [];

  /** A fresh directory holding `files` (relative path → content; a trailing `/` makes a directory). */
  make(files: Record<string, string | Buffer> = {}): string {
    const dir = mkdtempSync(join(tmpdir(), 'cs-config-test-'));
    this.made.push(dir);
    for (const [name, content] of Object.entries(files)) {
      const path = join(dir, name);
      if (name.endsWith('/')) {
        mkdirSync(path, { recursive: true });
        continue;
      }
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
    }
    return dir;
  }

  /** A directory holding one valid-looking model, `model.onnx`. */
  modelDir(): string {
    return this.make({ 'model.onnx': ONNX_BYTES });
  }

  cleanup(): void {
    for (const dir of this.made.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}
