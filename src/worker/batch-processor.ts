import type { Redis } from 'ioredis';
import type { ServingConfig } from '../config/types.js';
import { reasonOf } from '../errors/registry.js';
import type { Logger } from '../logging/logger.js';
import { CONSUMER_GROUP, keys } from '../redis/keys.js';
import { SLOT_TTL_SECONDS, slotKey } from '../redis/stats-schema.js';
import { batchStatistics } from './batch-statistics.js';
import { STREAM_FIELDS } from '../contracts/stream-entry.js';
import { runRecords } from './batch-runner.js';
import type { Model } from './model-session.js';
import {
  requestsOf,
  decodeRecord,
  type DecodedRecord,
  type ReadyRecord,
  type RecordAddress,
} from './record-decoder.js';
import { defineAnswerScript, writeBatch, type BatchWrite, type EntryAnswer } from './answer-script.js';
import { PixelPool } from './pixel-pool.js';
import { encodeAnswers, type Answer } from './result-writer.js';
import { entryTime, requestCount, type StreamEntry } from './stream-entry.js';

interface BatchOutcome {
  readonly answers: Answer[];
  readonly runSizes: readonly number[];
  readonly runMs: readonly number[];
  readonly computeMs: number;
}

/**
 * Turns one read of stream entries into answers: decode, run, and one script call with every
 * result hash, reply, acknowledgement, deletion and counter of the batch.
 *
 * The previous batch's write travels while the next batch is read. With the model on an
 * inference thread, batches also overlap: while one runs there, the next is read and decoded
 * here and its runs wait in the thread's queue, so the thread goes from one batch to the next
 * without waiting for this thread. Runs and writes keep the order of the batches.
 */
export class BatchProcessor {
  /** The previous batch's writes. */
  private writing: Promise<unknown> = Promise.resolve();
  /** Settles when the batch ahead has run: the next one's turn. */
  private turn: Promise<void> = Promise.resolve();
  private readonly inFlight = new Set<Promise<void>>();
  /** Entries taken by start() whose batch's write has not gone through yet (an entry's requests may span batches). */
  private readonly holding = new Map<string, number>();
  private readonly pixels = new PixelPool();

  constructor(
    private readonly model: Model,
    private readonly commands: Redis,
    private readonly config: ServingConfig,
    private readonly consumer: string,
    private readonly logger: Logger,
  ) {
    defineAnswerScript(commands);
  }

  /** Batches taken and not yet answered. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** Resolves once some batch in hand has been answered. */
  async settled(): Promise<void> {
    await Promise.race(this.inFlight);
  }

  /** Resolves once every batch taken is answered and its write has gone through. */
  async flush(): Promise<void> {
    await Promise.all(this.inFlight);
    await this.writing;
  }

  /** True while an entry taken by start() is being answered: decoded, run, or its answer on its way to Redis. */
  holds(id: string): boolean {
    return this.holding.has(id);
  }

  /** Takes a batch; it is decoded now and answered in the background (see pending, settled, flush). */
  start(entries: StreamEntry[]): void {
    for (const entry of entries) this.holding.set(entry.id, (this.holding.get(entry.id) ?? 0) + 1);
    const done = this.process(entries)
      .catch((error: unknown) => {
        this.logger.error({ err: error, count: entries.length }, 'processing a batch failed');
      })
      .finally(() => {
        this.inFlight.delete(done);
        // Writes go out in order, so the latest one settles after this batch's own.
        void this.writing.finally(() => this.release(entries));
      });
    this.inFlight.add(done);
  }

  private release(entries: readonly StreamEntry[]): void {
    for (const entry of entries) {
      const left = (this.holding.get(entry.id) ?? 1) - 1;
      if (left > 0) this.holding.set(entry.id, left);
      else this.holding.delete(entry.id);
    }
  }

  private async process(entries: StreamEntry[]): Promise<void> {
    const now = Date.now();
    let queueMs = 0;
    const addresses: RecordAddress[] = [];
    const unanswerable: EntryAnswer[] = [];
    for (const entry of entries) {
      queueMs += Math.max(0, now - entryTime(entry.id));
      const requests = requestsOf(entry);
      if (!requests.ok) {
        // Nowhere to answer it: removed from the stream, counted and logged so it leaves a trace.
        const uriBytes = entry.fields.get(STREAM_FIELDS.uri)?.length ?? null;
        this.logger.warn({ id: entry.id, uriBytes, counter: requests.counter }, requests.reason);
        unanswerable.push({
          id: entry.id,
          counters: [requests.counter],
          answered: 0,
          extra: requestCount(entry) - 1,
          hash: undefined,
          reply: undefined,
        });
        continue;
      }
      addresses.push(...requests.records);
    }
    const decodeStarted = performance.now();
    let decodeMs = 0;
    const decoded = this.decode(addresses, now).then((records) => {
      decodeMs = performance.now() - decodeStarted;
      return records;
    });
    // Failures are taken up when the batch's turn comes, not while it waits for it.
    decoded.catch(() => undefined);
    // Wait for the batch ahead to run, then hold the turn until this one has run.
    const ahead = this.turn;
    let done = (): void => undefined;
    this.turn = new Promise<void>((resolve) => (done = resolve));
    try {
      await ahead;
      await this.runAndWrite(
        entries,
        unanswerable,
        addresses,
        decoded,
        { readAt: now, queueMs, decodeMs: () => decodeMs },
        done,
      );
    } finally {
      done();
    }
  }

  /**
   * Runs the batch, hands the turn on (`ran`: once its runs are queued on a model that queues
   * them, else once they are over), then writes its answers after the batch ahead's.
   */
  private async runAndWrite(
    entries: readonly StreamEntry[],
    unanswerable: readonly EntryAnswer[],
    addresses: readonly RecordAddress[],
    decoded: Promise<DecodedRecord[]>,
    read: { readonly readAt: number; readonly queueMs: number; readonly decodeMs: () => number },
    ran: () => void,
  ): Promise<void> {
    const { queueMs } = read;
    const { commands, config } = this;
    let outcome: BatchOutcome;
    try {
      const records = await decoded;
      outcome = await this.answer(records, ran);
      // Their runs are over: image buffers go back for the next batches.
      for (const record of records)
        if (record.ok) for (const input of record.inputs) this.pixels.give(input.data);
    } catch (error) {
      // Whatever went wrong, the batch is answered and acknowledged, and the worker goes on.
      this.logger.error({ err: error, count: entries.length }, 'processing a batch failed');
      const message = `the worker failed on this batch: ${reasonOf(error)}`;
      outcome = {
        answers: addresses.map((address) => ({ address, ok: false, code: 'CS_ERR_INTERNAL', message })),
        runSizes: [],
        runMs: [],
        computeMs: 0,
      };
    }
    // Every record read is answered, so none stays pending for a worker that is alive.
    const answered = new Set(outcome.answers.map((a) => requestKey(a.address)));
    for (const address of addresses) {
      if (answered.has(requestKey(address))) continue;
      const message = 'the worker produced no answer for this record';
      outcome.answers.push({ address, ok: false, code: 'CS_ERR_INTERNAL', message });
    }
    const encodeStarted = performance.now();
    const { entries: answers, succeeded } = encodeAnswers(outcome.answers, {
      job: config.jobName,
      postProcessing: config.postProcessing,
      resultTtlSeconds: config.resultTtlSeconds,
    });
    const answeredAt = Date.now();
    const counters = this.counters(outcome.runSizes);
    const statistics = batchStatistics({
      readAt: read.readAt,
      answeredAt,
      answers: outcome.answers.map((answer, i) => ({
        id: answer.address.entry.id,
        ok: succeeded[i] === true,
      })),
      runSizes: outcome.runSizes,
      runMs: outcome.runMs,
      decodeMs: read.decodeMs(),
      encodeMs: performance.now() - encodeStarted,
    });
    for (const [name, by] of statistics.totals) counters.set(name, (counters.get(name) ?? 0) + by);
    const write: BatchWrite = {
      stream: keys.stream(config.jobName),
      statsKey: keys.stats(config.jobName),
      packedExtraKey: keys.packedExtra(config.jobName),
      slot: {
        key: slotKey(config.jobName, answeredAt),
        ttlSeconds: SLOT_TTL_SECONDS,
        counters: statistics.slot,
      },
      lastInference: statistics.lastInference,
      group: CONSUMER_GROUP,
      consumer: this.consumer,
      ttlSeconds: config.resultTtlSeconds,
      entries: [...answers, ...unanswerable],
      answeredCounters: ['processed', `worker:${this.consumer}`],
      counters,
      floatCounters: new Map([
        ['compute_ms', outcome.computeMs],
        ['queue_ms', queueMs],
      ]),
    };
    // The next batch may run now. At most one batch's write is in flight: this one is sent once
    // the one ahead has gone through, and travels while the worker reads the next batch.
    ran();
    await this.writing;
    this.writing = writeBatch(commands, write).then(
      (dropped) => {
        if (dropped.length > 0)
          this.logger.warn(
            { ids: dropped, count: dropped.length },
            'answers dropped: their entries were claimed by another worker (this one looked gone) or already answered',
          );
      },
      (error: unknown) => {
        this.logger.error({ err: error, count: entries.length }, 'writing results failed');
      },
    );
  }

  /** Decodes the records concurrently (sharp decodes on libuv's threads). */
  private decode(addresses: readonly RecordAddress[], now: number): Promise<DecodedRecord[]> {
    const { config } = this;
    const context = {
      model: this.model.metadata,
      inputAlreadyBatched: config.inputAlreadyBatched,
      maxDeliveries: config.maxDeliveries,
      now,
      image: config.image,
      pixels: this.pixels,
      bounds: { maxRecordBatch: config.maxRecordBatch, maxRecordBytes: config.maxRecordBytes },
    };
    return Promise.all(addresses.map((address) => decodeRecord(address, context)));
  }

  /** Runs the ready records (`submitted` once their runs are asked for); the others are answered with their reason. */
  private async answer(records: readonly DecodedRecord[], submitted: () => void): Promise<BatchOutcome> {
    const { config, model } = this;
    const answers: Answer[] = [];
    const ready: ReadyRecord[] = [];
    for (const record of records) {
      if (record.ok) ready.push(record);
      else answers.push({ address: record, ok: false, code: record.code, message: record.message });
    }
    const report = await runRecords(model, ready, config.maxBatchSize, submitted);
    for (const record of ready) {
      const result = report.outcomes.get(record);
      if (result === undefined) continue;
      answers.push(
        result.ok ? { address: record, ok: true, outputs: result.outputs } : { address: record, ...result },
      );
    }
    return { answers, runSizes: report.runSizes, runMs: report.runMs, computeMs: report.computeMs };
  }

  /** Counters of the runs; answers and errors are counted by the write, for the entries it answers. */
  private counters(runSizes: readonly number[]): Map<string, number> {
    const counters = new Map<string, number>();
    const add = (name: string): void => {
      counters.set(name, (counters.get(name) ?? 0) + 1);
    };
    for (const size of runSizes) {
      add('batches');
      add(`batch:${size}`);
    }
    return counters;
  }
}

/** One request of a batch: its entry and, within a pack, its uri. */
function requestKey(address: RecordAddress): string {
  return `${address.entry.id} ${address.uri}`;
}
