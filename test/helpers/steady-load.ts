/**
 * Keeps `concurrency` requests in flight until stopped, recording how each one ended.
 * `send` resolves when the request got its right answer and throws otherwise (with the
 * CsError code, when it has one, kept in the outcome).
 */
export interface LoadOutcome {
  readonly seq: number;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly ok: boolean;
  readonly code: string | undefined;
  readonly message: string | undefined;
}

export class SteadyLoad {
  private readonly outcomes: LoadOutcome[] = [];
  private readonly running = new Set<Promise<void>>();
  private next = 0;
  private stopped = false;

  constructor(
    private readonly send: (seq: number) => Promise<void>,
    private readonly concurrency: number,
  ) {}

  start(): void {
    for (let i = 0; i < this.concurrency; i += 1) this.launch();
  }

  /** Answers (right results) recorded so far. */
  get answered(): number {
    return this.outcomes.filter((o) => o.ok).length;
  }

  /** Right answers to requests sent after `time`. */
  answeredSince(time: number): number {
    return this.outcomes.filter((o) => o.ok && o.startedAt >= time).length;
  }

  /** Stops sending and waits for every request in flight to end; every request's outcome. */
  async stop(): Promise<LoadOutcome[]> {
    this.stopped = true;
    while (this.running.size > 0) await Promise.all([...this.running]);
    return [...this.outcomes].sort((a, b) => a.seq - b.seq);
  }

  private launch(): void {
    if (this.stopped) return;
    const seq = this.next;
    this.next += 1;
    const startedAt = Date.now();
    const run = this.send(seq).then(
      () => this.record(seq, startedAt, true, undefined, undefined),
      (error: unknown) => {
        const code = (error as { code?: unknown }).code;
        this.record(
          seq,
          startedAt,
          false,
          typeof code === 'string' ? code : undefined,
          error instanceof Error ? error.message : String(error),
        );
      },
    );
    const tracked: Promise<void> = run.finally(() => {
      this.running.delete(tracked);
      this.launch();
    });
    this.running.add(tracked);
  }

  private record(seq: number, startedAt: number, ok: boolean, code?: string, message?: string): void {
    this.outcomes.push({ seq, startedAt, endedAt: Date.now(), ok, code, message });
  }
}
