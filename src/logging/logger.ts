import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  /** A file path to append JSON lines to; standard error when absent. */
  file?: string;
  bindings?: Record<string, string | number>;
}

/** Only process entries create loggers; everything else receives one (or a child) as a parameter. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env['CLUSTER_SERVING_LOG_LEVEL'] ?? 'info';
  const destination: DestinationStream =
    options.file === undefined
      ? pino.destination({ fd: 2, sync: true })
      : // 0600: logs name models, addresses and request errors; only the user may read them.
        pino.destination({ dest: options.file, mkdir: true, sync: false, mode: 0o600 });
  const logger = pino({ level, base: { pid: process.pid } }, destination);
  return options.bindings === undefined ? logger : logger.child(options.bindings);
}

/** A logger that drops everything, for tests and libraries used without logging. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
