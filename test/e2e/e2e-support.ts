import { createServer, type Server, type Socket } from 'node:net';
import { expect } from 'vitest';
import { InputQueue } from '../../src/client/input-queue.js';
import { mlpReference } from '../fixtures/onnx-models.js';

/** A sample for the mlp test model (input [1,4]). */
export function sample(seed: number): Float32Array {
  return Float32Array.from([seed, seed / 2, -seed / 3, 1 + seed / 5]);
}

/** Sends one prediction to a job serving the mlp model and checks it against a plain computation. */
export async function expectMlpAnswer(queue: InputQueue, seed: number): Promise<void> {
  const input = sample(seed);
  const result = await queue.predict({ input: { data: input, shape: [1, 4] } }, { timeoutMs: 30_000 });
  if (result.kind !== 'tensors') throw new Error(`expected tensors, got ${result.kind}`);
  const output = result.outputs['output'];
  expect(output?.shape).toEqual([1, 3]);
  const expected = mlpReference(input, 1);
  const got = Array.from(output?.data as Float32Array);
  got.forEach((value, i) => expect(value).toBeCloseTo(expected[i] ?? Number.NaN, 4));
}

export function queueFor(port: number, name: string): InputQueue {
  return new InputQueue({ redisUrl: `redis://127.0.0.1:${port}`, name });
}

/**
 * A server that speaks just enough RESP to pass for Redis 6.0 (PING, CLIENT, INFO), to check
 * that an old Redis is refused. No Redis binary older than 6.2 is installed here.
 */
export async function startOldRedis(port: number): Promise<Server> {
  const server = createServer((socket: Socket) => {
    let buffer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (;;) {
        const parsed = takeCommand(buffer);
        if (parsed === undefined) return;
        buffer = parsed.rest;
        socket.write(answer(parsed.command));
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

function answer(command: string[]): string {
  const name = (command[0] ?? '').toUpperCase();
  if (name === 'PING') return '+PONG\r\n';
  if (name === 'INFO') {
    const info = '# Server\r\nredis_version:6.0.5\r\nredis_mode:standalone\r\nloading:0\r\n';
    return `$${Buffer.byteLength(info)}\r\n${info}\r\n`;
  }
  if (name === 'CLIENT' || name === 'SELECT') return '+OK\r\n';
  return `-ERR unknown command '${name}'\r\n`;
}

function takeCommand(buffer: string): { command: string[]; rest: string } | undefined {
  if (!buffer.startsWith('*')) {
    const end = buffer.indexOf('\r\n');
    if (end < 0) return undefined;
    return { command: buffer.slice(0, end).split(' '), rest: buffer.slice(end + 2) };
  }
  let at = buffer.indexOf('\r\n');
  if (at < 0) return undefined;
  const count = Number(buffer.slice(1, at));
  at += 2;
  const command: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const lineEnd = buffer.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const length = Number(buffer.slice(at + 1, lineEnd));
    const start = lineEnd + 2;
    if (buffer.length < start + length + 2) return undefined;
    command.push(buffer.slice(start, start + length));
    at = start + length + 2;
  }
  return { command, rest: buffer.slice(at) };
}
