/** $disconnect: forgets the connection and its subscriptions. API Gateway sends it at most once and not always. */
import type { RouteEvent, RouteResponse } from '../../shared/websocket/events.js';
import type { WebSocketDeps } from '../../shared/websocket/handler.js';

export async function disconnect(event: RouteEvent, deps: Pick<WebSocketDeps, 'connections'>): Promise<RouteResponse> {
  await deps.connections.delete(event.requestContext.connectionId);
  return { statusCode: 200 };
}
