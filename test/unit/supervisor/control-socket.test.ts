import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CsError } from '../../../src/errors/registry.js';
import { silentLogger } from '../../../src/logging/logger.js';
import { sendRequest } from '../../../src/supervisor/control-client.js';
import { ControlServer } from '../../../src/supervisor/control-server.js';
import type { Progress } from '../../../src/supervisor/protocol.js';

let dir: string;
let server: ControlServer;
let socketPath: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-sock-'));
  socketPath = join(dir, 'supervisor.sock');
  server = new ControlServer(
    socketPath,
    async (request, context) => {
      if (request.type === 'cancel') throw new CsError('CS_ERR_JOB_NOT_FOUND', `no job ${request.target}`);
      if (request.type === 'list') {
        context.progress('redis', 'one');
        context.progress('ready', 'two');
        return { jobs: [] };
      }
      return { pid: 1, home: dir };
    },
    silentLogger(),
  );
  await server.listen();
});

afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function rawExchange(line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.write(line);
  });
}

describe('control socket', () => {
  it('is readable and writable by its owner only', async () => {
    expect((await stat(socketPath)).mode & 0o777).toBe(0o600);
  });

  it('streams progress lines before the result', async () => {
    const progress: Progress[] = [];
    const result = await sendRequest(
      socketPath,
      { type: 'list', all: false },
      { onProgress: (p) => progress.push(p) },
    );
    expect(result).toEqual({ jobs: [] });
    expect(progress.map((p) => p.message)).toEqual(['one', 'two']);
  });

  it('carries the error code of a failed request back to the CLI', async () => {
    const error = await sendRequest(socketPath, { type: 'cancel', target: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CsError);
    expect((error as CsError).code).toBe('CS_ERR_JOB_NOT_FOUND');
    expect((error as CsError).exitCode).toBe(1);
  });

  it('answers a line that is not JSON, or not a known request, with a usage error', async () => {
    expect(JSON.parse(await rawExchange('hello\n'))).toEqual({
      type: 'error',
      code: 'CS_ERR_CLI_USAGE',
      message: 'control request is not JSON',
    });
    const unknown = JSON.parse(await rawExchange('{"type":"reboot"}\n')) as { code: string };
    expect(unknown.code).toBe('CS_ERR_CLI_USAGE');
  });

  it('hangs up on a request line that never ends', async () => {
    expect(await rawExchange('x'.repeat(70 * 1024))).toBe('');
  });

  it('reports a missing supervisor as CS_ERR_SUPERVISOR_UNAVAILABLE', async () => {
    const error = await sendRequest(join(dir, 'absent.sock'), { type: 'ping' }).catch((e: unknown) => e);
    expect((error as CsError).code).toBe('CS_ERR_SUPERVISOR_UNAVAILABLE');
  });
});
