/**
 * The message routes (`subscribe`, `unsubscribe`, and `$default` for anything else): changes the connection's
 * subscriptions and answers on the connection — an acknowledgement with the subscriptions now held, or an error
 * naming what was wrong with the message. A bad message is the client's mistake, so it is answered, not thrown.
 *
 * Subscribing to one experiment drops a subscription to all of them: a client that connected without naming an
 * experiment and then asks for one wants that one. Unsubscribing from the last one leaves the connection receiving
 * nothing (not everything) until it subscribes again, `*` included.
 */
import { ChaosDuckError, ValidationError, fieldIssues } from '../../shared/errors.js';
import { ALL_EXPERIMENTS, type ConnectionStore } from '../../shared/websocket/connections.js';
import type { RouteEvent, RouteResponse } from '../../shared/websocket/events.js';
import type { WebSocketDeps } from '../../shared/websocket/handler.js';
import { clientMessageSchema, errorMessageFor, type ClientMessage, type ServerMessage } from '../../shared/websocket/messages.js';

export async function handleMessage(event: RouteEvent, deps: WebSocketDeps): Promise<RouteResponse> {
  const { connectionId } = event.requestContext;
  let reply: ServerMessage;
  try {
    reply = await apply(parseMessage(event), connectionId, deps.connections);
  } catch (error) {
    // Only what the client can fix is answered; anything else fails the invocation like any other task.
    if (!(error instanceof ChaosDuckError) || error.status >= 500) throw error;
    reply = errorMessageFor(error);
  }
  await deps.sender.post(connectionId, JSON.stringify(reply));
  return { statusCode: 200 };
}

function parseMessage(event: RouteEvent): ClientMessage {
  const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ValidationError([{ field: '', message: 'the message is not JSON' }], 'message');
  }
  const message = clientMessageSchema.safeParse(body);
  if (!message.success) throw new ValidationError(fieldIssues(message.error.issues), 'message');
  return message.data;
}

async function apply({ action, experimentId }: ClientMessage, connectionId: string, connections: ConnectionStore): Promise<ServerMessage> {
  if (action === 'unsubscribe') {
    return { type: 'unsubscribed', experimentId, subscriptions: await connections.removeSubscription(connectionId, experimentId) };
  }
  let subscriptions = await connections.addSubscription(connectionId, experimentId);
  if (experimentId !== ALL_EXPERIMENTS && subscriptions.includes(ALL_EXPERIMENTS)) {
    subscriptions = await connections.removeSubscription(connectionId, ALL_EXPERIMENTS);
  }
  return { type: 'subscribed', experimentId, subscriptions };
}
