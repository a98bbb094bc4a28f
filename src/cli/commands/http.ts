import { CsError } from '../../errors/registry.js';

export interface HttpCommandOptions {
  readonly config?: string;
  readonly logFile?: string;
  /** The frontend flags of DESIGN.md section 5, as typed: `--port 10020 --tokenBucketEnabled ...`. */
  readonly rest: readonly string[];
}

/** One HTTP frontend in the foreground, for a job's config or standalone with BigDL's flags. */
export async function runHttpCommand(options: HttpCommandOptions): Promise<number> {
  const flags = parseFrontendFlags(options.rest);
  const { runFrontend } = await import('../../frontend/main.js');
  return runFrontend({
    ...(options.config === undefined ? {} : { configPath: options.config }),
    ...(Object.keys(flags).length === 0 ? {} : { flags }),
    ...(options.logFile === undefined ? {} : { logFile: options.logFile }),
  });
}

/**
 * `--name value`, `--name=value` and bare `--name` (true). Numbers become numbers; the
 * frontend validates names and values against its option list.
 */
export function parseFrontendFlags(args: readonly string[]): Record<string, string | number | boolean> {
  const flags: Record<string, string | number | boolean> = {};
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--') || arg.length === 2) {
      throw new CsError(
        'CS_ERR_CLI_USAGE',
        `unexpected argument "${arg}"; frontend options look like --port 10020`,
      );
    }
    const body = arg.slice(2);
    const eq = body.indexOf('=');
    let name: string;
    let raw: string | undefined;
    if (eq >= 0) {
      name = body.slice(0, eq);
      raw = body.slice(eq + 1);
    } else {
      name = body;
      const next = args[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        raw = next;
        i += 1;
      }
    }
    flags[name] = raw === undefined ? true : typed(raw);
  }
  return flags;
}

function typed(raw: string): string | number | boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
  return raw;
}
