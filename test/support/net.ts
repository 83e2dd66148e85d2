/** Loopback networking for the test support that starts real servers (moto, Prometheus, the Kubernetes control plane). */
import { createServer, type AddressInfo } from 'node:net';

/**
 * A loopback port nothing listens on now. It is only free when picked: a server started on it may still lose it to
 * someone else, so a caller retries with another port when its server exits early.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
