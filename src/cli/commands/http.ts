export interface HttpCommandOptions {
  readonly config?: string;
  readonly logFile?: string;
  /** The frontend flags of DESIGN.md section 5, as typed: `--port 10020 --tokenBucketEnabled ...`. */
  readonly rest: readonly string[];
}

/** One HTTP frontend in the foreground, for a job's config or standalone with BigDL's flags. */
export async function runHttpCommand(options: HttpCommandOptions): Promise<number> {
  // The frontend's own argv parser, so `cluster-serving http --x` and the frontend process the
  // supervisor starts read flags alike; the frontend checks names and values.
  const [{ parseFrontendArgv }, { runFrontend }] = await Promise.all([
    import('../../frontend/options.js'),
    import('../../frontend/main.js'),
  ]);
  const parsed = parseFrontendArgv(options.rest);
  const flags = parsed.flags;
  const logFile = options.logFile ?? parsed.logFile;
  return runFrontend({
    ...(options.config === undefined ? {} : { configPath: options.config }),
    ...(Object.keys(flags).length === 0 ? {} : { flags }),
    ...(logFile === undefined ? {} : { logFile }),
  });
}
