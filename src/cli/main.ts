import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { CsError, ERRORS, isCsError, reasonOf, type ErrorCode } from '../errors/registry.js';

/**
 * The `cluster-serving` program. Each subcommand lives in `commands/` and is imported only
 * when it runs, so `list` does not pay for onnxruntime and `init` does not load ioredis.
 * `invokedAs` names the binary in messages (the aliases map to start/shutdown/init).
 */
export async function main(argv: string[], invokedAs: string): Promise<void> {
  const usage: UsageNote = { message: undefined };
  const program = buildProgram(usage);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    const subcommands = new Set(program.commands.map((command) => command.name()));
    process.exitCode = reportError(error, { invokedAs, argv, usage, subcommands });
  }
}

/** What commander said about a usage error; printed by reportError with its code instead. */
interface UsageNote {
  message: string | undefined;
}

/** Aliases (cluster-serving-start...) run this same program with their subcommand prefilled. */
function buildProgram(usage: UsageNote): Command {
  const program = new Command('cluster-serving')
    .description('Run trained ONNX models as a streaming inference service')
    .exitOverride()
    .configureOutput({
      writeErr: (text) => process.stderr.write(text),
      writeOut: (text) => process.stdout.write(text),
      // Kept for reportError, which prints it like every other error: with its code.
      outputError: (text) => {
        usage.message = text.trim().replace(/^error: /, '');
      },
    })
    .version(packageVersion(), '-V, --version')
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 failure (the message ends with its CS_ERR_ code), 2 usage or config error.
With --json a failing command prints {"error":{"code","message"}} on stdout.
Home: $CLUSTER_SERVING_HOME (default ~/.cluster-serving): control socket, state.json, logs/.`,
    );

  program
    .command('init')
    .description('write a commented config.yaml template (every key with its default)')
    .argument('[dir]', 'directory to write config.yaml into', '.')
    .option('--force', 'overwrite an existing config.yaml', false)
    .action(async (dir: string, options: { force: boolean }) => {
      const { runInit } = await import('./commands/init.js');
      process.exitCode = await runInit({ dir, force: options.force });
    });

  program
    .command('start')
    .description('start the job described by config.yaml and return once it serves')
    .option('-c, --config <path>', 'config file', 'config.yaml')
    .option('--foreground', 'keep everything attached; Ctrl-C stops it all', false)
    .addOption(
      new Option('--timeout <seconds>', 'give up when the job is not ready after this long').default('120'),
    )
    .option('--json', 'print the started job as JSON', false)
    .action(async (options: { config: string; foreground: boolean; timeout: string; json: boolean }) => {
      const { runStart } = await import('./commands/start.js');
      process.exitCode = await runStart({
        configPath: options.config,
        foreground: options.foreground,
        timeoutMs: secondsOption('--timeout', options.timeout) * 1000,
        json: options.json,
      });
    });

  program
    .command('list')
    .description('jobs of this home: state, workers, figures')
    .option('--all', 'include stopped, cancelled and failed jobs', false)
    .option('--json', 'stable JSON for scripts', false)
    .action(async (options: { all: boolean; json: boolean }) => {
      const { runList } = await import('./commands/list.js');
      process.exitCode = await runList(options);
    });

  program
    .command('stop')
    .description('stop a job once what is queued now is answered')
    .argument('<job>', 'job name or id')
    .option('--drain-timeout <seconds>', 'stop waiting for queued entries after this long', '30')
    .option('--json', 'print the stopped job as JSON', false)
    .option('--all-hosts', 'stop the job on every host that runs it through the same Redis', false)
    .action(async (job: string, options: { drainTimeout: string; json: boolean; allHosts: boolean }) => {
      const { runStop } = await import('./commands/stop.js');
      process.exitCode = await runStop({
        target: job,
        drainTimeoutMs: secondsOption('--drain-timeout', options.drainTimeout) * 1000,
        json: options.json,
        allHosts: options.allHosts,
      });
    });

  program
    .command('cancel')
    .description("stop a job's processes now; unprocessed entries stay in the stream")
    .argument('<job>', 'job name or id')
    .option('--json', 'print the cancelled job as JSON', false)
    .option('--all-hosts', 'cancel the job on every host that runs it through the same Redis', false)
    .action(async (job: string, options: { json: boolean; allHosts: boolean }) => {
      const { runCancel } = await import('./commands/cancel.js');
      process.exitCode = await runCancel({ target: job, json: options.json, allHosts: options.allHosts });
    });

  program
    .command('clear')
    .description('forget finished jobs (stopped, cancelled, failed): all, or the one named')
    .argument('[job]', 'name or id of a finished job (default: every finished job)')
    .option('--json', 'print the cleared jobs as JSON', false)
    .action(async (job: string | undefined, options: { json: boolean }) => {
      const { runClear } = await import('./commands/clear.js');
      process.exitCode = await runClear({ target: job, json: options.json });
    });

  program
    .command('shutdown')
    .description('stop every job, frontend and the managed Redis, then the supervisor')
    .option('--keep-data', "keep the managed Redis's append-only file (queued entries, results)", false)
    .action(async (options: { keepData: boolean }) => {
      const { runShutdown } = await import('./commands/shutdown.js');
      process.exitCode = await runShutdown({ keepData: options.keepData });
    });

  program
    .command('logs')
    .description("show a job's process logs")
    .argument('<job>', 'job name or id')
    .option('-f, --follow', 'keep printing new lines', false)
    .action(async (job: string, options: { follow: boolean }) => {
      const { runLogs } = await import('./commands/logs.js');
      process.exitCode = await runLogs({ target: job, follow: options.follow });
    });

  program
    .command('worker')
    .description('run one worker in the foreground (containers, other machines)')
    .option('-c, --config <path>', 'config file', 'config.yaml')
    .option('--redis <url>', 'Redis to serve from, instead of the config redisUrl')
    .option('--log-file <path>', 'write JSON logs to this file instead of standard error')
    .option('--health-port <port>', 'answer GET /healthz (live) and /readyz (model loaded, Redis reachable)')
    .option('--health-host <address>', 'address of the health port (default 0.0.0.0)')
    .action(
      async (options: {
        config: string;
        redis?: string;
        logFile?: string;
        healthPort?: string;
        healthHost?: string;
      }) => {
        const { runWorkerCommand } = await import('./commands/worker.js');
        process.exitCode = await runWorkerCommand(options);
      },
    );

  program
    .command('http')
    .description('run one HTTP frontend in the foreground')
    .option('-c, --config <path>', 'serve the job of this config file (its http: section)')
    .option('--log-file <path>', 'write JSON logs to this file instead of standard error')
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .helpOption(
      '--help',
      'frontend options: --interface --port --redisHost --redisPort --redisUrl --redisInputQueue ...',
    )
    .action(async (options: { config?: string; logFile?: string }, command: Command) => {
      const { runHttpCommand } = await import('./commands/http.js');
      process.exitCode = await runHttpCommand({ ...options, rest: command.args });
    });

  return program;
}

function packageVersion(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function secondsOption(flag: string, value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new CsError(
      'CS_ERR_CLI_USAGE',
      `${flag} expects a positive number of seconds, received "${value}"`,
    );
  }
  return seconds;
}

interface ReportContext {
  readonly invokedAs: string;
  readonly argv: readonly string[];
  readonly usage: UsageNote;
  readonly subcommands: ReadonlySet<string>;
}

/**
 * Prints one readable line for a failure (stderr, ending with its code) and, when the
 * command line asked for --json, the same error as JSON on stdout; returns the exit code.
 */
function reportError(error: unknown, context: ReportContext): number {
  const failure = describeFailure(error, context);
  if (failure === undefined) return 0;
  process.stderr.write(`${context.invokedAs}: ${failure.message} [${failure.code}]\n`);
  if (wantsJson(context.argv)) {
    process.stdout.write(`${JSON.stringify({ error: { code: failure.code, message: failure.message } })}\n`);
  }
  if (
    failure.code === 'CS_ERR_INTERNAL' &&
    error instanceof Error &&
    error.stack !== undefined &&
    process.env['CLUSTER_SERVING_DEBUG'] !== undefined
  ) {
    process.stderr.write(`${error.stack}\n`);
  }
  return failure.exitCode;
}

interface Failure {
  readonly code: ErrorCode;
  readonly message: string;
  readonly exitCode: number;
}

/** undefined when nothing failed (help or version shown on request). */
function describeFailure(error: unknown, context: ReportContext): Failure | undefined {
  if (error instanceof CommanderError) {
    if (
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      error.exitCode === 0
    )
      return undefined;
    // `commander.help` with a non-zero exit: no subcommand given, the help went to stderr.
    const said =
      error.code === 'commander.help' ? 'no command given' : (context.usage.message ?? error.message);
    return {
      code: 'CS_ERR_CLI_USAGE',
      message: `${said} (see ${helpCommand(context)})`,
      exitCode: ERRORS.CS_ERR_CLI_USAGE.exitCode,
    };
  }
  if (isCsError(error)) return { code: error.code, message: error.message, exitCode: error.exitCode };
  return { code: 'CS_ERR_INTERNAL', message: `unexpected error: ${reasonOf(error)}`, exitCode: 1 };
}

/** `cluster-serving stop --help` when the subcommand is known, else `cluster-serving --help`. */
function helpCommand({ invokedAs, argv, subcommands }: ReportContext): string {
  const first = argv[0];
  const subcommand =
    invokedAs === 'cluster-serving' && first !== undefined && subcommands.has(first) ? ` ${first}` : '';
  return `${invokedAs}${subcommand} --help`;
}

/** --json anywhere before a `--` that ends the options. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}
