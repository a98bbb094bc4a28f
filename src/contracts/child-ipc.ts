import { z } from 'zod';

/**
 * The IPC contract between the supervisor (or the primary of a frontend cluster) and the
 * processes it starts, declared once for both sides.
 */

/** What a worker or frontend tells its parent. */
export const childMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('state'),
    state: z.enum(['loading', 'warming', 'ready']),
    consumer: z.string().optional(),
    url: z.string().optional(),
  }),
  z.object({ type: z.literal('fatal'), code: z.string(), message: z.string() }),
]);
export type ChildMessage = z.infer<typeof childMessageSchema>;

/** What the supervisor tells a worker: answer the stream up to `untilId`, then stop, within `timeoutMs`. */
export const parentMessageSchema = z.object({
  type: z.literal('drain'),
  untilId: z.string(),
  timeoutMs: z.number().positive(),
});
export type ParentMessage = z.infer<typeof parentMessageSchema>;
export type DrainMessage = ParentMessage;

/**
 * node:cluster's own channel between a frontend cluster's primary and its processes: a
 * process asks for the metrics of all (`http.processes` > 1), the primary answers with
 * prom-client's sum or the reason it could not.
 */
export const METRICS_REQUEST = 'cs-metrics-request';
export const METRICS_REPLY = 'cs-metrics-reply';
/** Fields optional: the receiver sees whatever else travels on that channel too. */
export interface MetricsMessage {
  readonly type?: string;
  readonly id?: number;
  readonly text?: string;
  readonly error?: string;
}

export function parseChildMessage(value: unknown): ChildMessage | undefined {
  const parsed = childMessageSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

export function parseParentMessage(value: unknown): ParentMessage | undefined {
  const parsed = parentMessageSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
