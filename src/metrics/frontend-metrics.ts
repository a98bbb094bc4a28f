import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Why a prediction request was refused without a result. */
export type RejectionReason =
  | 'bad_request'
  | 'unknown_model'
  | 'body_too_large'
  | 'rate_limited'
  | 'busy'
  | 'no_worker'
  | 'queue_full'
  | 'redis_unavailable'
  | 'timeout'
  | 'outcome_unknown'
  | 'failed';

/** Where the frontend spends a prediction request's time. */
export type RequestStage = 'parse' | 'validate' | 'submit' | 'encode';

/**
 * The job's shared figures as workers count them in Redis (see src/redis/job-state.ts);
 * a structural copy so this core module needs no process-level import.
 */
export interface JobFigures {
  readonly processed: number;
  readonly errors: Readonly<Record<string, number>>;
  /** Entries removed without an answer (no usable uri), or answers dropped (entry no longer the worker's), by reason. */
  readonly dropped: Readonly<Record<string, number>>;
  readonly batches: number;
  readonly queueMsTotal: number;
  readonly computeMsTotal: number;
  readonly batchSizes: Readonly<Record<string, number>>;
  readonly queued: number;
  readonly inFlight: number;
  readonly queuedRequests: number;
  readonly liveWorkers: number;
}

export interface FrontendMetrics {
  readonly registry: Registry;
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  requestStarted(): void;
  requestEnded(): void;
  reject(reason: RejectionReason): void;
  observeStage(stage: RequestStage, seconds: number): void;
  /** Copies the job's shared counters in before a scrape; undefined when they could not be read. */
  setJobFigures(figures: JobFigures | undefined): void;
  /** Entries written to Redis and the round trips that carried them (countWindow/timeWindow at work). */
  setProducerFigures(flushes: number): void;
  render(): Promise<string>;
  /** The cs_job_* families alone: what the process that takes a scrape reads from Redis. */
  renderJobFigures(): Promise<string>;
}

/**
 * With several frontend processes, request figures are summed across them, while the job's
 * figures come from Redis and are shown once, as the process that took the scrape read them.
 */
const JOB_AGGREGATOR = 'omit' as const;

/** Counters owned elsewhere (the workers, the producer) are copied, not accumulated: reset, then set. */
function setCounter(counter: Counter, value: number): void {
  counter.reset();
  if (value > 0) counter.inc(value);
}

const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** One registry per frontend (not prom-client's global one), so tests and several servers never collide. */
export function createFrontendMetrics(options: {
  job: string;
  defaultMetrics?: boolean;
  /** Where the producer's flush count is read at each collection (a scrape or a cluster aggregation). */
  producerFlushes?: () => number;
}): FrontendMetrics {
  const { producerFlushes } = options;
  const registry = new Registry();
  registry.setDefaultLabels({ job_name: options.job });
  if (options.defaultMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'cs_http_' });

  const duration = new Histogram({
    name: 'cs_http_request_duration_seconds',
    help: 'HTTP request duration by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'cs_http_requests_in_flight_requests',
    help: 'HTTP requests being handled now',
    registers: [registry],
  });
  const rejections = new Counter({
    name: 'cs_http_rejections_total',
    help: 'Prediction requests answered without a result, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const stages = new Histogram({
    name: 'cs_http_stage_duration_seconds',
    help: 'Time spent per stage of a prediction request: parse (JSON), validate, submit (Redis round trip, queue, inference, reply), encode',
    labelNames: ['stage'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const flushes: Counter = new Counter({
    name: 'cs_http_producer_flushes_total',
    help: 'Redis round trips that wrote prediction entries (several entries share one when they arrive together)',
    registers: [registry],
    collect: () => {
      if (producerFlushes !== undefined) setCounter(flushes, producerFlushes());
    },
  });
  const figuresUp = new Gauge({
    name: 'cs_job_figures_available_boolean',
    help: '1 when the job figures below were read from Redis for this scrape, 0 when Redis could not be read',
    registers: [registry],
    aggregator: JOB_AGGREGATOR,
  });
  const processed = new Counter({
    name: 'cs_job_processed_records_total',
    help: 'Records the job has answered (all workers, all hosts)',
    registers: [registry],
    aggregator: JOB_AGGREGATOR,
  });
  const jobErrors = new Counter({
    name: 'cs_job_errors_total',
    help: 'Records the job answered with an error, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
    aggregator: JOB_AGGREGATOR,
  });
  const jobDropped = new Counter({
    name: 'cs_job_dropped_total',
    help: 'Entries removed unanswered (reason no_uri) and answers dropped because another worker had claimed the entry (reason not_pending)',
    labelNames: ['reason'] as const,
    registers: [registry],
    aggregator: JOB_AGGREGATOR,
  });
  const batches = new Counter({
    name: 'cs_job_batches_total',
    help: 'Inference runs (batches) of the job',
    registers: [registry],
    aggregator: JOB_AGGREGATOR,
  });
  const batchSizes = new Counter({
    name: 'cs_job_batch_size_batches_total',
    help: 'Inference runs by number of records in the batch',
    labelNames: ['size'] as const,
    registers: [registry],
    aggregator: JOB_AGGREGATOR,
  });
  const queueSeconds = new Counter({
    name: 'cs_job_queue_wait_seconds_total',
    help: 'Total time records waited in the stream before their batch ran',
    registers: [registry],
    aggregator: JOB_AGGREGATOR,
  });
  const computeSeconds = new Counter({
    name: 'cs_job_compute_seconds_total',
    help: 'Total inference time of the job',
    registers: [registry],
    aggregator: JOB_AGGREGATOR,
  });
  const queued = new Gauge({
    name: 'cs_job_queued_entries',
    help: 'Entries not yet delivered to any worker (consumer group lag)',
    registers: [registry],
    aggregator: JOB_AGGREGATOR,
  });
  const jobInFlight = new Gauge({
    name: 'cs_job_in_flight_entries',
    help: 'Entries delivered to a worker and not yet acknowledged',
    registers: [registry],
    aggregator: JOB_AGGREGATOR,
  });
  const queuedRequests = new Gauge({
    name: 'cs_job_queue_requests',
    help: 'Requests counted against maxQueueLength: entries waiting or running, each request of a pack counted',
    registers: [registry],
    aggregator: JOB_AGGREGATOR,
  });
  const workers = new Gauge({
    name: 'cs_job_live_workers',
    help: 'Workers with a recent heartbeat',
    registers: [registry],
    aggregator: JOB_AGGREGATOR,
  });

  const setLabelled = (
    counter: Counter<'reason'> | Counter<'size'>,
    label: 'reason' | 'size',
    values: Readonly<Record<string, number>>,
  ): void => {
    counter.reset();
    for (const [key, value] of Object.entries(values)) {
      if (value > 0) (counter as Counter<string>).inc({ [label]: key }, value);
    }
  };

  return {
    registry,
    observeRequest(route, method, status, seconds): void {
      duration.observe({ route, method, status: String(status) }, seconds);
    },
    requestStarted(): void {
      inFlight.inc();
    },
    requestEnded(): void {
      inFlight.dec();
    },
    reject(reason): void {
      rejections.inc({ reason });
    },
    observeStage(stage, seconds): void {
      stages.observe({ stage }, seconds);
    },
    setJobFigures(figures): void {
      if (figures === undefined) {
        figuresUp.set(0);
        return;
      }
      figuresUp.set(1);
      setCounter(processed, figures.processed);
      setLabelled(jobErrors, 'reason', figures.errors);
      setLabelled(jobDropped, 'reason', figures.dropped);
      setCounter(batches, figures.batches);
      setLabelled(batchSizes, 'size', figures.batchSizes);
      setCounter(queueSeconds, figures.queueMsTotal / 1000);
      setCounter(computeSeconds, figures.computeMsTotal / 1000);
      queued.set(figures.queued);
      jobInFlight.set(figures.inFlight);
      queuedRequests.set(figures.queuedRequests);
      workers.set(figures.liveWorkers);
    },
    setProducerFigures(count): void {
      setCounter(flushes, count);
    },
    render(): Promise<string> {
      return registry.metrics();
    },
    async renderJobFigures(): Promise<string> {
      const names = registry
        .getMetricsAsArray()
        .map((metric) => metric.name)
        .filter((name) => name.startsWith('cs_job_'));
      const parts = await Promise.all(names.map((name) => registry.getSingleMetricAsString(name)));
      return `${parts.join('\n')}\n`;
    },
  };
}
