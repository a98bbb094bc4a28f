import { z } from 'zod';
import { JOB_STATES, listedJobSchema } from './job-record.js';

/**
 * The control protocol over `<home>/supervisor.sock`: the CLI writes one JSON request line
 * per connection; the supervisor answers with zero or more `progress` lines and then one
 * `result` or `error` line, and closes the connection.
 */
export const requestSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ping') }),
  z.object({ type: z.literal('start'), configPath: z.string().min(1), timeoutMs: z.number().positive() }),
  z.object({ type: z.literal('list'), all: z.boolean() }),
  z.object({
    type: z.literal('stop'),
    target: z.string().min(1),
    drainTimeoutMs: z.number().positive(),
    allHosts: z.boolean().optional(),
  }),
  z.object({ type: z.literal('cancel'), target: z.string().min(1), allHosts: z.boolean().optional() }),
  z.object({ type: z.literal('shutdown'), keepData: z.boolean().optional() }),
  /** Forget finished jobs (all of them, or those with this name or id). */
  z.object({ type: z.literal('clear'), target: z.string().min(1).optional() }),
]);
export type ControlRequest = z.infer<typeof requestSchema>;

export const PROGRESS_STEPS = ['redis', 'loading', 'warming', 'ready', 'http', 'stopping'] as const;
export type ProgressStep = (typeof PROGRESS_STEPS)[number];

export const progressSchema = z.object({
  type: z.literal('progress'),
  step: z.enum(PROGRESS_STEPS),
  message: z.string(),
});
export type Progress = z.infer<typeof progressSchema>;

export const pongSchema = z.object({ pid: z.number().int(), home: z.string() });
export const jobResultSchema = z.object({ job: listedJobSchema });
/** `stop|cancel --all-hosts`: how many other hosts' supervisors got the command, and where workers still beat. */
export const allHostsResultSchema = jobResultSchema.extend({
  otherHosts: z.number().int(),
  stillRunningOn: z.array(z.string()),
});
export type AllHostsResult = z.infer<typeof allHostsResultSchema>;
/** `start`'s answer: the job, and where the dashboard is (null when it serves none). */
export const startResultSchema = jobResultSchema.extend({ dashboard: z.string().nullable() });
/** `list`'s answer; `dashboard` is where this home's dashboard is served (null: none). */
export const jobsResultSchema = z.object({
  jobs: z.array(listedJobSchema),
  dashboard: z.string().nullable().default(null),
});
/** `clear`'s answer: the finished jobs it forgot. */
export const clearResultSchema = z.object({
  cleared: z.array(z.object({ id: z.string(), name: z.string(), state: z.enum(JOB_STATES) })),
});
export type ClearResult = z.infer<typeof clearResultSchema>;
export const shutdownResultSchema = z.object({
  jobs: z.array(z.string()),
  redis: z.array(z.string()),
  /** Append-only file directories left in place (`shutdown --keep-data`). */
  keptData: z.array(z.string()),
});
export type ShutdownResult = z.infer<typeof shutdownResultSchema>;

export const responseSchema = z.discriminatedUnion('type', [
  progressSchema,
  z.object({ type: z.literal('result'), result: z.unknown() }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
]);
export type ControlResponse = z.infer<typeof responseSchema>;
