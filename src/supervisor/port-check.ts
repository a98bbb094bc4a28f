import { createServer } from 'node:net';
import { CsError } from '../errors/registry.js';

/** Fails with CS_ERR_PORT_IN_USE when `host:port` cannot be bound right now. */
export async function assertPortFree(host: string, port: number, what: string): Promise<void> {
  const problem = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
  if (problem === undefined) return;
  if (problem.code === 'EADDRINUSE') {
    throw new CsError(
      'CS_ERR_PORT_IN_USE',
      `${what} port ${port} on ${host} is already in use; stop what listens there, or set another port in the http: section`,
    );
  }
  throw new CsError(
    'CS_ERR_PORT_IN_USE',
    `${what} cannot listen on ${host}:${port}: ${problem.code ?? problem.message}`,
  );
}
