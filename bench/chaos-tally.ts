/** What each request of the chaos run came to, and the figures drawn from them (pure but for `ran`). */

export interface Outcome {
  readonly path: 'client' | 'enqueue' | 'http';
  /** Unique per request for the client paths; empty for HTTP (the frontend picks its own). */
  readonly uri: string;
  /** `answered`, `accepted` (enqueue), a CS_ERR code, `uncoded:*` or `transport:*`. */
  readonly result: string;
}

export interface Tally {
  readonly sent: { readonly client: number; readonly enqueue: number; readonly http: number };
  /** Requests whose caller got a result. */
  readonly answered: number;
  /** BigDL-style entries Redis accepted (their results are checked at the end). */
  readonly enqueued: number;
  /** Failures as the caller saw them, by CS_ERR code; `transport:*` when no HTTP answer came at all (frontend killed). */
  readonly errors: Readonly<Record<string, number>>;
  /** Failures that carried no registry code (target 0). */
  readonly uncoded: number;
  /**
   * Accepted and never answered (target 0): enqueued entries (the XADD returned an id) without
   * a result at the end, and predict requests answered CS_ERR_TIMEOUT (so accepted) that never ran.
   */
  readonly lost: readonly string[];
  /** Entries whose result workers published more than once, seen on the reply channels (target 0). */
  readonly answeredTwice: readonly string[];
  /** CS_ERR_OUTCOME_UNKNOWN answers, split by whether the request ran after all. */
  readonly unknownRan: number;
  readonly unknownNeverRan: number;
}

/**
 * `publishes`: results published per uri on reply channels (by every worker, so a second run
 * of one entry shows as 2). `ran(uri)`: whether the entry produced a result at all (published
 * or written to its result hash).
 */
export async function tally(
  outcomes: readonly Outcome[],
  publishes: ReadonlyMap<string, number>,
  ran: (uri: string) => Promise<boolean>,
): Promise<Tally> {
  const sent = { client: 0, enqueue: 0, http: 0 };
  const errors: Record<string, number> = {};
  let answered = 0;
  let enqueued = 0;
  let uncoded = 0;
  let unknownRan = 0;
  let unknownNeverRan = 0;
  const lost: string[] = [];
  for (const outcome of outcomes) {
    sent[outcome.path]++;
    const { result, uri } = outcome;
    if (result === 'answered') {
      answered++;
      continue;
    }
    if (result === 'accepted') {
      enqueued++;
      // Enqueued BigDL-style: Redis gave it a stream id, so it must have a result by now.
      if (!(await ran(uri))) lost.push(uri);
      continue;
    }
    errors[result] = (errors[result] ?? 0) + 1;
    if (result.startsWith('uncoded:')) uncoded++;
    if (outcome.path === 'http') continue;
    if (result === 'CS_ERR_TIMEOUT' && !(await ran(uri))) lost.push(uri);
    if (result === 'CS_ERR_OUTCOME_UNKNOWN') {
      if (await ran(uri)) unknownRan++;
      else unknownNeverRan++;
    }
  }
  const answeredTwice = [...publishes].filter(([, n]) => n > 1).map(([uri]) => uri);
  return { sent, answered, enqueued, errors, uncoded, lost, answeredTwice, unknownRan, unknownNeverRan };
}
