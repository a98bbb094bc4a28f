import type { Redis } from 'ioredis';
import type { ServingConfig } from '../config/types.js';
import { reasonOf, type ErrorCode } from '../errors/registry.js';
import type { Logger } from '../logging/logger.js';
import { CONSUMER_GROUP, keys } from '../redis/keys.js';
import { runRecords } from './batch-runner.js';
import type { ModelSession } from './model-session.js';
import { addressOf, decodeRecord, type ReadyRecord, type RecordAddress } from './record-decoder.js';
import { defineAnswerScript, writeBatch } from './answer-script.js';
import { encodeAnswers, type Answer } from './result-writer.js';
import { entryTime, type StreamEntry } from './stream-entry.js';

interface BatchOutcome {
  readonly answers: Answer[];
  readonly runSizes: readonly number[];
  readonly computeMs: number;
}

/**
 * Turns one read of stream entries into answers: decode, run, and one script call with every
 * result hash, reply, acknowledgement, deletion and counter of the batch. The write
 * travels while the worker reads and runs the next batch; at most one is in flight.
 */
export class BatchProcessor {
  /** The previous batch's writes. */
  private writing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly model: ModelSession,
    private readonly commands: Redis,
    private readonly config: ServingConfig,
    private readonly consumer: string,
    private readonly logger: Logger,
  ) {
    defineAnswerScript(commands);
  }

  /** Resolves once the last batch's results are written. */
  async flush(): Promise<void> {
    await this.writing;
  }

  async process(entries: StreamEntry[]): Promise<void> {
    const { model, commands, config } = this;
    const now = Date.now();
    let queueMs = 0;
    const addresses: RecordAddress[] = [];
    for (const entry of entries) {
      queueMs += Math.max(0, now - entryTime(entry.id));
      const address = addressOf(entry);
      if (address === undefined) {
        this.logger.warn({ id: entry.id }, 'entry without a usable uri (missing, empty or too long) dropped');
        continue;
      }
      addresses.push(address);
    }
    let outcome: BatchOutcome;
    try {
      outcome = await this.answer(model, addresses, now);
    } catch (error) {
      // Whatever went wrong, the batch is answered and acknowledged, and the worker goes on.
      this.logger.error({ err: error, count: entries.length }, 'processing a batch failed');
      const message = `the worker failed on this batch: ${reasonOf(error)}`;
      outcome = {
        answers: addresses.map((address) => ({ address, ok: false, code: 'CS_ERR_INTERNAL', message })),
        runSizes: [],
        computeMs: 0,
      };
    }
    const { writes, failures } = encodeAnswers(outcome.answers, {
      job: config.jobName,
      postProcessing: config.postProcessing,
      resultTtlSeconds: config.resultTtlSeconds,
    });
    const counters = this.counters(outcome.answers.length, failures, outcome.runSizes);
    const write = {
      stream: keys.stream(config.jobName),
      statsKey: keys.stats(config.jobName),
      group: CONSUMER_GROUP,
      ttlSeconds: config.resultTtlSeconds,
      results: writes,
      ids: entries.map((e) => e.id),
      counters,
      floatCounters: new Map([
        ['compute_ms', outcome.computeMs],
        ['queue_ms', queueMs],
      ]),
    };
    // At most one batch's writes in flight: wait for the previous one before sending this one.
    await this.writing;
    this.writing = writeBatch(commands, write).catch((error: unknown) => {
      this.logger.error({ err: error, count: entries.length }, 'writing results failed');
    });
  }

  /** Decodes the records (concurrently: sharp decodes on libuv's threads) and runs the ready ones. */
  private async answer(
    model: ModelSession,
    addresses: readonly RecordAddress[],
    now: number,
  ): Promise<BatchOutcome> {
    const { config } = this;
    const context = {
      model: model.metadata,
      inputAlreadyBatched: config.inputAlreadyBatched,
      maxDeliveries: config.maxDeliveries,
      now,
      image: config.image,
    };
    const answers: Answer[] = [];
    const ready: ReadyRecord[] = [];
    for (const record of await Promise.all(addresses.map((address) => decodeRecord(address, context)))) {
      if (record.ok) ready.push(record);
      else answers.push({ address: record, ok: false, code: record.code, message: record.message });
    }
    const report = await runRecords(model, ready, config.maxBatchSize);
    for (const record of ready) {
      const result = report.outcomes.get(record);
      if (result === undefined) continue;
      answers.push(
        result.ok ? { address: record, ok: true, outputs: result.outputs } : { address: record, ...result },
      );
    }
    return { answers, runSizes: report.runSizes, computeMs: report.computeMs };
  }

  private counters(
    answered: number,
    failures: readonly ErrorCode[],
    runSizes: readonly number[],
  ): Map<string, number> {
    const counters = new Map<string, number>([
      ['processed', answered],
      [`worker:${this.consumer}`, answered],
    ]);
    const add = (name: string): void => {
      counters.set(name, (counters.get(name) ?? 0) + 1);
    };
    for (const size of runSizes) {
      add('batches');
      add(`batch:${size}`);
    }
    for (const code of failures) add(`errors:${code}`);
    return counters;
  }
}
