import { isCsError, reasonOf } from '../errors/registry.js';
import type { Logger } from '../logging/logger.js';
import { parseParentMessage, type ChildMessage, type ParentMessage } from '../contracts/child-ipc.js';

type Listener = (value: unknown) => void;

/** Why a process was asked to stop (`shutdown`: the supervisor's control request). */
export type StopCause = 'SIGTERM' | 'SIGINT' | 'disconnect' | 'shutdown';

export interface EntryRuntimeOptions {
  /** How stderr lines name the process: `cluster-serving <name>: ...`. */
  readonly name: string;
  readonly logger: Logger;
  /**
   * Longest a graceful stop may take after the first signal; then the process exits with 1
   * whatever it still waits for (a Redis that is down, a request that hangs).
   */
  readonly stopTimeoutMs: number;
  /** A closed IPC channel (the parent died) counts as a stop request. Default true. */
  readonly stopOnDisconnect?: boolean;
}

const SIGNAL_NUMBERS: Record<'SIGTERM' | 'SIGINT', number> = { SIGINT: 2, SIGTERM: 15 };

/**
 * The one owner of a process's signals, its channel to the parent and its fatal errors
 * (worker, frontend, frontend cluster primary, supervisor, `start --foreground`):
 * - the first SIGTERM/SIGINT (or the parent going away) resolves `stopRequested`, and the
 *   process exits after `stopTimeoutMs` even when its graceful stop has not finished;
 * - a second SIGTERM/SIGINT exits at once with 128 + the signal number;
 * - an uncaught exception or unhandled rejection is logged, told to the parent, written to
 *   stderr, and exits with 1.
 */
export class EntryRuntime {
  readonly stopRequested: Promise<StopCause>;
  private resolveStop: (cause: StopCause) => void = () => undefined;
  private cause: StopCause | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly listeners: [string, Listener][] = [];

  constructor(private readonly options: EntryRuntimeOptions) {
    this.stopRequested = new Promise((resolve) => {
      this.resolveStop = resolve;
    });
    const onSignal = (signal: 'SIGTERM' | 'SIGINT'): void => {
      if (this.cause === undefined) {
        this.requestStop(signal);
        return;
      }
      this.options.logger.warn({ signal }, 'second signal: exiting at once');
      this.options.logger.flush();
      process.exit(128 + SIGNAL_NUMBERS[signal]);
    };
    this.listen('SIGTERM', () => onSignal('SIGTERM'));
    this.listen('SIGINT', () => onSignal('SIGINT'));
    if (options.stopOnDisconnect !== false) this.listen('disconnect', () => this.requestStop('disconnect'));
    this.listen('uncaughtException', (error: unknown) => this.crash(error));
    this.listen('unhandledRejection', (reason: unknown) => this.crash(reason));
  }

  /** Starts the graceful stop (as the first signal does) and the clock that bounds it. */
  requestStop(cause: StopCause): void {
    if (this.cause !== undefined) return;
    this.cause = cause;
    this.options.logger.info({ cause, boundMs: this.options.stopTimeoutMs }, 'stopping');
    this.watchdog = setTimeout(() => {
      this.options.logger.error(
        { boundMs: this.options.stopTimeoutMs },
        'the graceful stop did not finish in time; exiting',
      );
      this.options.logger.flush();
      process.exit(1);
    }, this.options.stopTimeoutMs);
    // The clock must not be what keeps the process alive once everything else has closed.
    this.watchdog.unref();
    this.resolveStop(cause);
  }

  /** Sends a message to the parent, when there is one and it still listens. */
  tellParent(message: ChildMessage): void {
    if (process.send === undefined || !process.connected) return;
    try {
      process.send(message);
    } catch {
      // The parent went away meanwhile; `disconnect` follows.
    }
  }

  /** The parent's messages, validated; anything else on the channel is ignored. */
  onParentMessage(handler: (message: ParentMessage) => void): void {
    this.listen('message', (value: unknown) => {
      const message = parseParentMessage(value);
      if (message !== undefined) handler(message);
    });
  }

  /** A failure the process ends with: logged, told to the parent and written to stderr. */
  reportFatal(error: unknown): void {
    const code = isCsError(error) ? error.code : 'CS_ERR_INTERNAL';
    const message = reasonOf(error);
    this.options.logger.error({ code, err: isCsError(error) ? undefined : error }, message);
    this.options.logger.flush();
    this.tellParent({ type: 'fatal', code, message });
    process.stderr.write(`cluster-serving ${this.options.name}: ${message}\n`);
  }

  /**
   * The entry is done: sets the exit code and releases what would keep the process alive
   * (the IPC channel, the stop clock, these handlers).
   */
  finish(code: number): void {
    this.close();
    process.exitCode = code;
    if (process.connected) process.disconnect();
  }

  /** Removes the handlers and the stop clock, for a process that goes on (the CLI after `start --foreground`). */
  close(): void {
    clearTimeout(this.watchdog);
    this.options.logger.flush();
    // One cast for every event: Node types each event's listener separately.
    for (const [event, listener] of this.listeners.splice(0)) process.off(event as 'message', listener);
  }

  private crash(error: unknown): void {
    this.reportFatal(error);
    process.exit(1);
  }

  private listen(event: string, listener: Listener): void {
    process.on(event as 'message', listener);
    this.listeners.push([event, listener]);
  }
}
