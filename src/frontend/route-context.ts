import type { FastifyRequest } from 'fastify';
import type { HttpOptions } from '../config/types.js';
import type { FrontendMetrics, RequestStage } from '../metrics/frontend-metrics.js';
import type { ModelMetadata } from '../protocol/model-metadata.js';
import type { PredictionBackend } from './backend.js';

/** What the route files share. */
export interface RouteContext {
  readonly backend: PredictionBackend;
  readonly job: string;
  readonly http: HttpOptions;
  readonly metrics: FrontendMetrics;
  readonly version: string;
  /** onRequest hook of prediction routes: token bucket, then the parallelism bound. */
  admit(request: FastifyRequest): Promise<void>;
  /** The job's model when a warmed worker is alive; else CS_ERR_NO_WORKER / CS_ERR_REDIS_UNAVAILABLE. */
  readyModel(): Promise<ModelMetadata>;
  /** Records the time since `startedAt` (performance.now()) under a stage; returns now. */
  stage(stage: RequestStage, startedAt: number): number;
}
