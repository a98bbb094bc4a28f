import { constants } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CsError } from '../../errors/registry.js';
import { shellWord } from '../shell-word.js';

export interface InitOptions {
  readonly dir: string;
  readonly force: boolean;
}

/** The template ships with the package: dist/cli/commands/ → ../../../config/config.yaml. */
export function templatePath(): string {
  return fileURLToPath(new URL('../../../config/config.yaml', import.meta.url));
}

export async function runInit(options: InitOptions): Promise<number> {
  const dir = resolve(options.dir);
  const target = join(dir, 'config.yaml');
  await mkdir(dir, { recursive: true });
  try {
    await copyFile(templatePath(), target, options.force ? 0 : constants.COPYFILE_EXCL);
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? error.code : undefined;
    if (code === 'EEXIST') {
      throw new CsError('CS_ERR_CLI_USAGE', `${target} already exists; add --force to overwrite it`);
    }
    if (code === 'ENOENT') {
      throw new CsError(
        'CS_ERR_INTERNAL',
        `the config template is missing from the package (${templatePath()})`,
      );
    }
    throw error;
  }
  process.stdout.write(`wrote ${target}\n`);
  process.stderr.write(`edit modelPath, then run: cluster-serving start -c ${shellWord(target)}\n`);
  return 0;
}
