/**
 * The model as the worker's main thread sees it: a ModelSession on the inference thread, run
 * through messages. Inputs are copied to the thread and outputs back; for the batches a worker
 * runs that costs far less than the run, and it keeps the main thread free to read, decode and
 * write while the model computes.
 */
import { Worker as Thread } from 'node:worker_threads';
import type { InferenceReply, InferenceRequest, LoadOptions } from '../contracts/inference-thread.js';
import { CsError } from '../errors/registry.js';
import type { ModelMetadata } from '../protocol/model-metadata.js';
import type { Tensor } from '../protocol/tensor.js';
import type { Model, ModelRun } from './model-session.js';

interface Waiting {
  readonly resolve: (run: ModelRun) => void;
  readonly reject: (error: Error) => void;
}

export class ModelRunner implements Model {
  /** The thread takes runs from its message queue in order: the next batch can wait there. */
  readonly queuesRuns = true;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private lost: string | undefined;
  private onReleased: () => void = () => undefined;

  private constructor(
    private readonly thread: Thread,
    readonly metadata: ModelMetadata,
    /** Why the thread could not be moved to LoadOptions.cpus, when it was asked to and could not. */
    readonly placementProblem: string | undefined,
    onLost: (reason: string) => void,
  ) {
    const stopped = (reason: string): void => {
      if (this.lost !== undefined) return;
      this.lost = reason;
      for (const waiting of this.waiting.values()) {
        waiting.reject(new CsError('CS_ERR_INTERNAL', `the inference thread stopped: ${reason}`));
      }
      this.waiting.clear();
      onLost(reason);
    };
    thread.on('message', (reply: InferenceReply) => this.settle(reply));
    thread.on('error', (error) => stopped(error.message));
    thread.on('exit', (code) => stopped(`it exited with code ${code}`));
  }

  /**
   * Starts the inference thread and loads the model there. `onLost` is told if the thread
   * stops while the model is in use; the worker cannot serve without it.
   */
  static async start(options: LoadOptions, onLost: (reason: string) => void): Promise<ModelRunner> {
    const thread = new Thread(new URL('./inference-thread.js', import.meta.url));
    const loaded = await new Promise<{ metadata: ModelMetadata; placementProblem?: string }>(
      (resolve, reject) => {
        const onExit = (code: number): void =>
          reject(
            new CsError('CS_ERR_MODEL_LOAD', `the inference thread exited with code ${code} while loading`),
          );
        thread.once('error', reject);
        thread.once('exit', onExit);
        thread.once('message', (reply: InferenceReply) => {
          thread.off('error', reject);
          thread.off('exit', onExit);
          if (reply.type === 'loaded') resolve(reply);
          else if (reply.type === 'failed') reject(new CsError(reply.code, reply.message));
          else reject(new CsError('CS_ERR_INTERNAL', `unexpected "${reply.type}" while loading`));
        });
        thread.postMessage({ type: 'load', options } satisfies InferenceRequest);
      },
    ).catch(async (error: unknown) => {
      await thread.terminate();
      throw error;
    });
    return new ModelRunner(thread, loaded.metadata, loaded.placementProblem, onLost);
  }

  run(inputs: readonly Tensor[], handOver = false): Promise<ModelRun> {
    if (this.lost !== undefined) {
      return Promise.reject(new CsError('CS_ERR_INTERNAL', `the inference thread stopped: ${this.lost}`));
    }
    const id = this.nextId++;
    return new Promise<ModelRun>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const request: InferenceRequest = { type: 'run', id, inputs };
      this.thread.postMessage(request, handOver ? movable(inputs) : []);
    });
  }

  /** Releases the session (waiting at most two seconds for it) and ends the thread. */
  async release(): Promise<void> {
    this.lost ??= 'released';
    const released = new Promise<void>((resolve) => {
      this.onReleased = resolve;
      this.thread.once('exit', () => resolve());
    });
    this.thread.postMessage({ type: 'release' } satisfies InferenceRequest);
    await Promise.race([released, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    await this.thread.terminate();
  }

  private settle(reply: InferenceReply): void {
    if (reply.type === 'released') this.onReleased();
    if (reply.type === 'loaded' || reply.type === 'released') return;
    const waiting = this.waiting.get(reply.id);
    if (waiting === undefined) return;
    this.waiting.delete(reply.id);
    if (reply.type === 'ran') waiting.resolve({ outputs: reply.outputs, computeMs: reply.computeMs });
    else waiting.reject(new CsError(reply.code, reply.message));
  }
}

/** The memory of numeric inputs that each fill a whole buffer of their own: moved, not copied. */
function movable(inputs: readonly Tensor[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const { data } of inputs) {
    if (Array.isArray(data)) continue;
    const view = data as Exclude<Tensor['data'], string[]>;
    const { buffer } = view;
    if (buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === buffer.byteLength) {
      buffers.add(buffer);
    }
  }
  return [...buffers];
}
