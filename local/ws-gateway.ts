/**
 * The WebSocket endpoint of the embedded runtime: what API Gateway's WebSocket API is in AWS. It runs the same
 * ws-connect, ws-disconnect, ws-subscribe and ws-broadcast handlers with API-Gateway-shaped events, keeps
 * connections in the same table, and feeds the broadcast from the in-process bus with EventBridge-shaped events.
 *
 * Like API Gateway, it runs $connect before completing the handshake, so a client whose socket is open is stored and
 * subscribed. Each connection's messages are handled one at a time, in order, with its $disconnect last; each
 * experiment's events are broadcast one at a time, in order, so no event overtakes an earlier one.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Context } from 'aws-lambda';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import * as wsBroadcast from '../functions/ws-broadcast/handler.js';
import * as wsConnect from '../functions/ws-connect/handler.js';
import * as wsDisconnect from '../functions/ws-disconnect/handler.js';
import * as wsSubscribe from '../functions/ws-subscribe/handler.js';
import type { JournalEvent } from '../shared/model/lifecycle.js';
import { PROGRESS_SOURCE } from '../shared/websocket/events.js';
import type { WebSocketDeps } from '../shared/websocket/handler.js';
import { MESSAGE_ACTIONS, errorMessageFor } from '../shared/websocket/messages.js';
import type { ConnectionSender } from '../shared/websocket/sender.js';
import { requestUrl } from './request-url.js';
import type { LocalRuntime } from './runtime.js';

export interface WebSocketGatewayOptions {
  runtime: LocalRuntime;
  /** Decides on the upgrade request; a refused one gets 401 and nothing is stored. */
  authenticate(request: IncomingMessage): boolean;
  /** Default `/ws`. */
  path?: string;
}

export interface WebSocketGateway {
  /** Stops accepting, closes every connection (running its $disconnect) and waits for deliveries in flight. */
  close(): Promise<void>;
}

interface Peer {
  /** Unset while $connect runs: what is posted meanwhile waits here, as API Gateway holds it until the handshake. */
  socket?: WebSocket;
  waiting: string[];
  /** This connection's handler invocations, one after another. */
  queue: Promise<void>;
}

/** How long a closing client gets to answer the close handshake before its socket is cut. */
const CLOSE_GRACE_MS = 2_000;

export function attachWebSocketGateway(server: Server, options: WebSocketGatewayOptions): WebSocketGateway {
  const path = options.path ?? '/ws';
  const peers = new Map<string, Peer>();
  /** Work close() waits for; each promise is one that never rejects. */
  const inFlight = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };
  let closing = false;

  const sender: ConnectionSender = {
    async post(connectionId, data) {
      const peer = peers.get(connectionId);
      if (!peer) return 'gone';
      if (!peer.socket) {
        peer.waiting.push(data);
        return 'sent';
      }
      const socket = peer.socket;
      if (socket.readyState !== WebSocket.OPEN) return 'gone';
      return new Promise((resolve) => socket.send(data, (error) => resolve(error ? 'gone' : 'sent')));
    },
  };
  const deps: WebSocketDeps = {
    connections: options.runtime.connections,
    sender,
  };
  const handlers = {
    connect: wsConnect.createHandler(deps),
    disconnect: wsDisconnect.createHandler(deps),
    message: wsSubscribe.createHandler(deps),
    broadcast: wsBroadcast.createHandler(deps),
  };

  const enqueue = (peer: Peer, work: () => Promise<void>) => {
    peer.queue = peer.queue.then(work).catch((error: unknown) => console.error('WebSocket handler failed:', error));
    track(peer.queue);
  };

  const disconnect = async (connectionId: string) => {
    await handlers.disconnect(routeEvent(connectionId, '$disconnect', 'DISCONNECT'), invocationContext('ws-disconnect'));
  };

  const onMessage = async (connectionId: string, socket: WebSocket, data: RawData) => {
    const body = rawText(data).toString('utf8');
    try {
      await handlers.message(routeEvent(connectionId, routeKeyOf(body), 'MESSAGE', { body }), invocationContext('ws-subscribe'));
    } catch (error) {
      // API Gateway answers a failed integration on the connection too; the client is told no more than that.
      console.error('WebSocket message handler failed:', error);
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(errorMessageFor(error)));
    }
  };

  const accept = async (request: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => {
    const connectionId = randomBytes(12).toString('base64url');
    const peer: Peer = { waiting: [], queue: Promise.resolve() };
    peers.set(connectionId, peer);
    const query = url.searchParams.size > 0 ? Object.fromEntries(url.searchParams) : undefined;
    let response: { statusCode: number; body?: string };
    try {
      response = await handlers.connect(routeEvent(connectionId, '$connect', 'CONNECT', { queryStringParameters: query }), invocationContext('ws-connect'));
    } catch (error) {
      console.error('WebSocket $connect handler failed:', error);
      response = { statusCode: 500 };
    }
    if (response.statusCode < 200 || response.statusCode >= 300 || closing || socket.destroyed) {
      peers.delete(connectionId);
      // Stored but never opened (the gateway is closing, or the client left during $connect): forget it again.
      if (response.statusCode < 300) await disconnect(connectionId);
      refuse(socket, closing && response.statusCode < 300 ? 503 : response.statusCode, response.body);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      peer.socket = ws;
      for (const data of peer.waiting.splice(0)) ws.send(data);
      ws.on('message', (data) => enqueue(peer, () => onMessage(connectionId, ws, data)));
      ws.on('error', (error) => console.error(`WebSocket connection ${connectionId}:`, error));
      ws.once('close', () => {
        peers.delete(connectionId);
        enqueue(peer, () => disconnect(connectionId));
      });
    });
  };

  const authenticated = (request: IncomingMessage) => {
    try {
      return options.authenticate(request);
    } catch (error) {
      // Thrown from inside the server's 'upgrade' event, it would take the whole process down.
      console.error('WebSocket authentication failed:', error);
      return false;
    }
  };

  const wss = new WebSocketServer({ noServer: true });
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = requestUrl(request);
    if (url?.pathname !== path) {
      // Another upgrade listener may own this path; with none, the request would hang.
      if (server.listenerCount('upgrade') === 1) refuse(socket, 404);
      return;
    }
    if (closing) return refuse(socket, 503);
    if (!authenticated(request)) return refuse(socket, 401);
    track(accept(request, socket, head, url).catch((error: unknown) => console.error('WebSocket connection not accepted:', error)));
  };
  server.on('upgrade', onUpgrade);

  // Each experiment's events are chained, so the broadcast of one finishes before the next one's starts.
  const chains = new Map<string, Promise<void>>();
  const unsubscribe = options.runtime.bus.subscribe({}, (event: JournalEvent) => {
    const envelope = eventBridgeEvent(event);
    const next = (chains.get(event.experimentId) ?? Promise.resolve())
      .then(() => handlers.broadcast(envelope, invocationContext('ws-broadcast')))
      .then(
        () => undefined,
        (error: unknown) => console.error(`progress event ${event.type} of ${event.experimentId} not broadcast:`, error),
      );
    chains.set(event.experimentId, next);
    void next.then(() => {
      if (chains.get(event.experimentId) === next) chains.delete(event.experimentId);
    });
    track(next);
  });

  return {
    async close() {
      closing = true;
      server.off('upgrade', onUpgrade);
      unsubscribe();
      const sockets = [...peers.values()].flatMap((peer) => (peer.socket ? [peer.socket] : []));
      for (const socket of sockets) socket.close(1001, 'server shutting down');
      const grace = setTimeout(() => sockets.forEach((socket) => socket.terminate()), CLOSE_GRACE_MS);
      // Closing sockets queue their $disconnect as they close: wait until nothing new has appeared.
      while (inFlight.size > 0 || [...peers.values()].some((peer) => peer.socket)) {
        await Promise.allSettled([...inFlight, ...sockets.map(closed)]);
      }
      clearTimeout(grace);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** API Gateway's `$request.body.action` route selection: a known action is its route, anything else `$default`. */
function routeKeyOf(body: string): string {
  try {
    const message: unknown = JSON.parse(body);
    const action = typeof message === 'object' && message !== null && 'action' in message ? message.action : undefined;
    return (MESSAGE_ACTIONS as readonly unknown[]).includes(action) ? String(action) : '$default';
  } catch {
    return '$default';
  }
}

function routeEvent(
  connectionId: string,
  routeKey: string,
  eventType: 'CONNECT' | 'DISCONNECT' | 'MESSAGE',
  extra: { queryStringParameters?: Record<string, string>; body?: string } = {},
) {
  return {
    requestContext: {
      connectionId,
      routeKey,
      eventType,
      messageDirection: 'IN',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      stage: 'local',
      apiId: 'local',
    },
    isBase64Encoded: false,
    ...extra,
  };
}

function eventBridgeEvent(event: JournalEvent) {
  return {
    version: '0',
    id: randomUUID(),
    source: PROGRESS_SOURCE,
    'detail-type': event.type,
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'local',
    resources: [],
    // A copy, as EventBridge would deliver: the broadcast runs later and must not see the publisher's object change.
    detail: structuredClone(event),
  };
}

/** A local invocation's context; the WebSocket handlers use no early-timeout middleware, so none needs the clock. */
function invocationContext(name: string): Context {
  return {
    functionName: `chaosduck-${name}`,
    functionVersion: '$LATEST',
    awsRequestId: randomUUID(),
    memoryLimitInMB: '1024',
    logGroupName: `/local/chaosduck-${name}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
  } as Context;
}

function rawText(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** Answers an upgrade request with a plain HTTP status and closes the socket. */
function refuse(socket: Duplex, status: number, body = ''): void {
  if (socket.destroyed) return;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function closed(socket: WebSocket): Promise<void> {
  return socket.readyState === WebSocket.CLOSED ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}
