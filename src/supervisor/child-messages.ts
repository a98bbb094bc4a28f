import { z } from 'zod';

/** What our worker and frontend entries send over IPC (the process contract). */
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

/** What the supervisor sends a worker to stop it gracefully. */
export interface DrainMessage {
  readonly type: 'drain';
  readonly untilId: string;
  readonly timeoutMs: number;
}

export function parseChildMessage(value: unknown): ChildMessage | undefined {
  const parsed = childMessageSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
