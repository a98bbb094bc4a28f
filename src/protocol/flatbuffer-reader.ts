/**
 * Bounded reads of a FlatBuffer (the encoding of Arrow IPC metadata). Every position and
 * vector length is checked against the buffer before use: generic FlatBuffer readers trust
 * the lengths they find, so one corrupt byte can make them loop over billions of "elements"
 * and exhaust memory, which on a worker would take down every record in flight.
 */
import { CsError } from '../errors/registry.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

export class FlatBufferReader {
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(why: string): never {
    throw new CsError('CS_ERR_INPUT_DECODE', `${this.what}: ${why}`);
  }

  private check(pos: number, size: number): void {
    if (!Number.isInteger(pos) || pos < 0 || pos + size > this.bytes.length) {
      this.fail(`metadata points outside itself (${size} bytes at ${pos} of ${this.bytes.length})`);
    }
  }

  u8(pos: number): number {
    this.check(pos, 1);
    return this.view.getUint8(pos);
  }

  i16(pos: number): number {
    this.check(pos, 2);
    return this.view.getInt16(pos, true);
  }

  u16(pos: number): number {
    this.check(pos, 2);
    return this.view.getUint16(pos, true);
  }

  i32(pos: number): number {
    this.check(pos, 4);
    return this.view.getInt32(pos, true);
  }

  u32(pos: number): number {
    this.check(pos, 4);
    return this.view.getUint32(pos, true);
  }

  /** An int64 that must be a non-negative safe integer (lengths, offsets, counts). */
  size(pos: number): number {
    this.check(pos, 8);
    const high = this.view.getInt32(pos + 4, true);
    if (high < 0 || high >= 0x200000) this.fail(`size at ${pos} is negative or beyond 2^53`);
    return high * 0x100000000 + this.view.getUint32(pos, true);
  }

  /** Position of the root table. */
  root(): number {
    return this.u32(0);
  }

  /** Position of field `id`'s value inside table `table`, or 0 when the field is absent. */
  field(table: number, id: number): number {
    const vtable = table - this.i32(table);
    const vtableSize = this.u16(vtable);
    const entry = 4 + 2 * id;
    if (entry + 2 > vtableSize) return 0;
    const offset = this.u16(vtable + entry);
    return offset === 0 ? 0 : table + offset;
  }

  /** The table that field `id` points to, or undefined when absent. */
  table(table: number, id: number): number | undefined {
    const at = this.field(table, id);
    return at === 0 ? undefined : at + this.u32(at);
  }

  /** Start and length of the vector field `id` (elements of `elementSize` bytes); empty when absent. */
  vector(table: number, id: number, elementSize: number): { start: number; length: number } {
    const at = this.field(table, id);
    if (at === 0) return { start: 0, length: 0 };
    const header = at + this.u32(at);
    const length = this.u32(header);
    this.check(header + 4, length * elementSize);
    return { start: header + 4, length };
  }

  /** Element `index` of a vector of tables. */
  tableAt(vector: { start: number }, index: number): number {
    const at = vector.start + 4 * index;
    return at + this.u32(at);
  }

  string(table: number, id: number): string {
    const { start, length } = this.vector(table, id, 1);
    try {
      return UTF8.decode(this.bytes.subarray(start, start + length));
    } catch {
      return this.fail('a name is not valid UTF-8');
    }
  }

  fieldU8(table: number, id: number, fallback: number): number {
    const at = this.field(table, id);
    return at === 0 ? fallback : this.u8(at);
  }

  fieldI16(table: number, id: number, fallback: number): number {
    const at = this.field(table, id);
    return at === 0 ? fallback : this.i16(at);
  }

  fieldI32(table: number, id: number, fallback: number): number {
    const at = this.field(table, id);
    return at === 0 ? fallback : this.i32(at);
  }

  fieldSize(table: number, id: number): number {
    const at = this.field(table, id);
    return at === 0 ? 0 : this.size(at);
  }
}
