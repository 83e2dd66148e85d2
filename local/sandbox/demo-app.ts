/**
 * What a replica of the demo service answers, shared by both replica modes: a forked replica process
 * (`demo-service.ts`) and an in-process replica (a `node:http` server inside the sandbox's own process).
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';

/** What a replica sends its supervisor once it listens (process mode, over IPC). */
export interface ReadyMessage {
  type: 'ready';
  port: number;
}

export interface DemoIdentity {
  service: string;
  replica: string;
  /** The process that serves the replica: its own in process mode, the sandbox's in in-process mode. */
  pid: number;
}

/** The request handler: `GET /` and `GET /health` answer the replica's identity, anything else 404. */
export function demoHandler(identity: DemoIdentity): RequestListener {
  const body = JSON.stringify({ service: identity.service, replica: identity.replica, pid: identity.pid });
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/' || path === '/health')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
    }
  };
}

/** A replica's server, not yet listening. */
export function createDemoServer(identity: DemoIdentity): Server {
  return createServer(demoHandler(identity));
}

/** A graceful delete (pod_delete with a grace period): stop taking connections, finish what is in flight. */
export function closeGracefully(server: Server, closed: () => void): void {
  server.close(() => closed());
  server.closeIdleConnections();
}
