/**
 * Float32 pixel buffers used again from batch to batch. A worker fed images makes one 100 KB-ish
 * buffer per image; freshly allocated, they are memory outside the JS heap that makes V8 run a
 * full collection every few hundred images. Buffers handed out here come back once their batch
 * is answered.
 */

/** Free buffers kept per size: enough for a few batches of images of one size. */
const KEEP_PER_SIZE = 64;

export class PixelPool {
  private readonly free = new Map<number, Float32Array[]>();
  /** Buffers handed out and not yet given back; anything else is not ours to keep. */
  private readonly lent = new WeakSet<Float32Array>();

  /** A buffer of `length` floats, with whatever values it held before. */
  take(length: number): Float32Array {
    const buffer = this.free.get(length)?.pop() ?? new Float32Array(length);
    this.lent.add(buffer);
    return buffer;
  }

  /** Takes back a buffer from take() that nothing reads any more; other values are ignored. */
  give(value: unknown): void {
    if (!(value instanceof Float32Array) || !this.lent.has(value)) return;
    this.lent.delete(value);
    let list = this.free.get(value.length);
    if (list === undefined) {
      list = [];
      this.free.set(value.length, list);
    }
    if (list.length < KEEP_PER_SIZE) list.push(value);
  }
}
